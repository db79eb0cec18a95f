import {
  mediaType,
  parseJson,
  reject,
  UninterpretableDelivery,
  utf8Text,
  type WebhookSource,
} from "../source";
import { githubCommands, ignoredReason, readGithubEvent } from "./events";
import { verifyGithubSignature } from "./signature";

const JSON_BODY = "application/json";
const FORM_BODY = "application/x-www-form-urlencoded";
const REQUIRED_HEADERS = [
  "X-GitHub-Event",
  "X-GitHub-Delivery",
  "X-GitHub-Hook-ID",
  "X-Hub-Signature-256",
] as const;

/** The JSON a hook sends: the body itself, or the `payload` field of a form-encoded body. */
function payloadOf(text: string, contentType: string): unknown {
  if (contentType === FORM_BODY) {
    const field = new URLSearchParams(text).get("payload");
    return field === null ? undefined : parseJson(field);
  }
  return parseJson(text);
}

/** GitHub repository, organization and App webhooks (docs/contract.md sections 3 and 4). */
export const github: WebhookSource = {
  name: "github",
  path: "/webhooks/github",
  secretVariable: "GITHUB_WEBHOOK_SECRET",
  settingNames: [],

  async admit({ headers, body }, secret) {
    const contentType = mediaType(headers.get("content-type"));
    if (contentType !== JSON_BODY && contentType !== FORM_BODY) {
      return reject(
        415,
        `Content-Type ${JSON.stringify(contentType)} is not accepted: set the webhook's content type to application/json (or application/x-www-form-urlencoded).`,
      );
    }
    const missing = REQUIRED_HEADERS.filter((name) => !headers.get(name));
    if (missing.length > 0) {
      return reject(400, `Missing header${missing.length > 1 ? "s" : ""} ${missing.join(", ")}: this endpoint takes GitHub webhook deliveries.`);
    }
    if (body.length === 0) {
      return reject(400, "The body is empty: a GitHub delivery carries a JSON payload.");
    }
    const text = utf8Text(body);
    if (text === null) {
      return reject(400, "The body is not valid UTF-8.");
    }
    if (!(await verifyGithubSignature(secret, text, headers.get("X-Hub-Signature-256")!))) {
      return reject(
        401,
        "X-Hub-Signature-256 does not match the body: check that the webhook's secret equals GITHUB_WEBHOOK_SECRET.",
      );
    }
    const payload = payloadOf(text, contentType);
    if (payload === undefined) {
      return reject(
        400,
        contentType === FORM_BODY
          ? "The form-encoded body has no `payload` field holding JSON."
          : "The body is not JSON.",
      );
    }
    const eventName = headers.get("X-GitHub-Event")!;
    const event = readGithubEvent(eventName, payload);
    if (!event.ok) {
      return reject(400, event.message);
    }
    const action = (payload as { action?: unknown }).action;
    return {
      kind: "deliver",
      deliveryKey: `${headers.get("X-GitHub-Hook-ID")}:${headers.get("X-GitHub-Delivery")}`,
      event: eventName,
      action: typeof action === "string" ? action : undefined,
      contentType,
      ignored: ignoredReason(event.value) ?? undefined,
    };
  },

  interpret({ body, contentType, event: eventName }) {
    const text = utf8Text(body);
    const event = readGithubEvent(eventName, text === null ? undefined : payloadOf(text, contentType));
    if (!event.ok) {
      throw new UninterpretableDelivery("github", event.message);
    }
    const ignored = ignoredReason(event.value);
    return ignored === null
      ? { kind: "commands", commands: githubCommands(event.value) }
      : { kind: "ignored", reason: ignored };
  },
};
