import { accept } from "../../check";
import { defineSource } from "../defineSource";
import { deliveryKey, Refused } from "../source";
import { COMMENT_SETTING_NAMES } from "./comments";
import { Markers, readGithubEvent } from "./events";
import { githubSecrets, signGithubPayload, verifyGithubSignature } from "./signature";

// Delivery ids come from unsigned headers: their form is checked before they make a key.
const HOOK_ID = /^\d{1,20}$/;
const DELIVERY_GUID = /^[A-Za-z0-9-]{1,64}$/;

/** The event's `action` (`opened`, `closed`, ...), for any event that has one. */
function actionOf(payload: unknown): string | undefined {
  return typeof payload === "object" && payload !== null && "action" in payload && typeof payload.action === "string"
    ? payload.action
    : undefined;
}

/** GitHub repository, organization and App webhooks (docs/contract.md#3-webhook-routes, docs/contract.md#github-x-github-event). */
export const github = defineSource({
  name: "github",
  path: "/webhooks/github",
  secretVariable: "GITHUB_WEBHOOK_SECRET",
  // The App's id: a check run's buttons are read on the App's own check runs alone.
  settingNames: [...COMMENT_SETTING_NAMES, "GITHUB_APP_ID"],
  bodies: { "application/json": "json", "application/x-www-form-urlencoded": "payloadField" },
  contentTypeAdvice: "set the webhook's content type to application/json (or application/x-www-form-urlencoded).",
  requiredHeaders: ["X-GitHub-Event", "X-GitHub-Delivery", "X-GitHub-Hook-ID", "X-Hub-Signature-256"],
  takes: "GitHub webhook deliveries",

  checkHeaders(headers) {
    if (!HOOK_ID.test(headers["X-GitHub-Hook-ID"])) {
      throw new Refused(400, `X-GitHub-Hook-ID must be 1 to 20 digits; got ${JSON.stringify(headers["X-GitHub-Hook-ID"].slice(0, 40))}.`);
    }
    if (!DELIVERY_GUID.test(headers["X-GitHub-Delivery"])) {
      throw new Refused(
        400,
        `X-GitHub-Delivery must be 1 to 64 letters, digits and -; got ${JSON.stringify(headers["X-GitHub-Delivery"].slice(0, 80))}.`,
      );
    }
  },

  async verify({ headers, body }, secret) {
    // During a rotation, a signature under any one of the secrets is GitHub's.
    for (const one of githubSecrets(secret)) {
      if (await verifyGithubSignature(one, body, headers["X-Hub-Signature-256"])) {
        return;
      }
    }
    throw new Refused(401, "X-Hub-Signature-256 does not match the body: check that the webhook's secret equals GITHUB_WEBHOOK_SECRET (or one of its secrets).");
  },

  async sign(secret, { body }) {
    // The first of several secrets signs, as a hook already moved to the new one.
    return { "X-Hub-Signature-256": await signGithubPayload(githubSecrets(secret)[0], body) };
  },

  readPayload(payload, headers, settings) {
    const eventName = headers["X-GitHub-Event"];
    const event = readGithubEvent(eventName, payload, settings);
    if (!event.ok) return event;
    return accept({
      deliveryKey: deliveryKey(headers["X-GitHub-Hook-ID"], headers["X-GitHub-Delivery"]),
      event: eventName,
      action: actionOf(payload),
      ignored: "ignored" in event.value ? event.value.ignored : undefined,
    });
  },

  interpretPayload(payload, delivery, settings) {
    const event = readGithubEvent(delivery.event, payload, settings);
    if (!event.ok) return event;
    if ("ignored" in event.value) return accept({ kind: "ignored", reason: event.value.ignored });
    const markers = new Markers();
    const commands = event.value.commands(markers);
    const skipped = markers.skipped();
    return accept(skipped.length > 0 ? { kind: "commands", commands, skipped } : { kind: "commands", commands });
  },
});
