import { z } from "zod";
import { mediaType, parseJson, reject, UninterpretableDelivery, utf8Text, type WebhookSource } from "../source";
import { summarizeIssues } from "../zodIssues";
import { readSlackEvent } from "./events";
import { appRateLimited, eventCallback, urlVerification } from "./payloads";
import { verifySlackSignature } from "./signature";

// Slack rejects requests older than five minutes; so does this endpoint, either way.
const WINDOW_SECONDS = 5 * 60;
const BOT_USER_SETTING = "SLACK_BOT_USER_ID";

const envelope = z.looseObject({ type: z.string() });

/** Slack's Events API (docs/contract.md sections 3 and 4). */
export const slack: WebhookSource = {
  name: "slack",
  path: "/webhooks/slack",
  secretVariable: "SLACK_SIGNING_SECRET",
  settingNames: [BOT_USER_SETTING],

  async admit({ headers, body, receivedAt }, secret, settings) {
    const contentType = mediaType(headers.get("content-type"));
    if (contentType !== "application/json") {
      return reject(
        415,
        `Content-Type ${JSON.stringify(contentType)} is not accepted: this endpoint takes Slack Events API callbacks (application/json).`,
      );
    }
    const signature = headers.get("X-Slack-Signature");
    const timestamp = headers.get("X-Slack-Request-Timestamp");
    const missing = [
      ...(signature ? [] : ["X-Slack-Signature"]),
      ...(timestamp ? [] : ["X-Slack-Request-Timestamp"]),
    ];
    if (missing.length > 0) {
      return reject(400, `Missing header${missing.length > 1 ? "s" : ""} ${missing.join(", ")}: this endpoint takes Slack Events API callbacks.`);
    }
    const seconds = /^\d{1,12}$/.test(timestamp!) ? Number(timestamp) : NaN;
    if (!(Math.abs(receivedAt / 1000 - seconds) <= WINDOW_SECONDS)) {
      return reject(401, "X-Slack-Request-Timestamp is more than five minutes from now: a replayed or delayed request, or a clock out of sync.");
    }
    if (!(await verifySlackSignature(secret, timestamp!, body, signature!))) {
      return reject(401, "X-Slack-Signature does not match: check that SLACK_SIGNING_SECRET is the app's Signing Secret.");
    }
    const text = utf8Text(body);
    const payload = text === null ? undefined : parseJson(text);
    const parsed = envelope.safeParse(payload);
    if (!parsed.success) {
      return reject(400, payload === undefined ? "The body is not JSON." : `The body is not a Slack callback: ${summarizeIssues(parsed.error)}`);
    }
    switch (parsed.data.type) {
      case "url_verification": {
        const challenge = urlVerification.safeParse(payload);
        return challenge.success
          ? {
              kind: "deliver",
              deliveryKey: `url_verification:${challenge.data.challenge}`,
              event: "url_verification",
              contentType,
              ignored: "Slack's url_verification handshake, answered with its challenge.",
              reply: { challenge: challenge.data.challenge },
            }
          : reject(400, `The url_verification callback has no challenge: ${summarizeIssues(challenge.error)}`);
      }
      case "app_rate_limited": {
        const limited = appRateLimited.safeParse(payload);
        return limited.success
          ? {
              kind: "deliver",
              deliveryKey: `app_rate_limited:${limited.data.team_id}:${limited.data.minute_rate_limited}`,
              event: "app_rate_limited",
              contentType,
              ignored: "Slack is rate-limiting this app's events.",
            }
          : reject(400, `The app_rate_limited callback is not of the expected shape: ${summarizeIssues(limited.error)}`);
      }
      case "event_callback": {
        const callback = eventCallback.safeParse(payload);
        if (!callback.success) {
          return reject(400, `The event_callback is not of the expected shape: ${summarizeIssues(callback.error)}`);
        }
        const { team_id, event_id, event } = callback.data;
        const reading = readSlackEvent(team_id, event, settings[BOT_USER_SETTING]);
        if (!reading.ok) {
          return reject(400, reading.message);
        }
        return {
          kind: "deliver",
          deliveryKey: event_id,
          event: event.type,
          action: typeof event.subtype === "string" ? event.subtype : undefined,
          contentType,
          ignored: "ignored" in reading.value ? reading.value.ignored : undefined,
        };
      }
      default:
        return reject(400, `Slack callback type ${JSON.stringify(parsed.data.type)} is not one of url_verification, event_callback, app_rate_limited.`);
    }
  },

  interpret({ body }, settings) {
    const payload = parseJson(utf8Text(body) ?? "");
    const type = envelope.safeParse(payload);
    if (!type.success) {
      throw new UninterpretableDelivery("slack", payload === undefined ? "the body is not JSON." : summarizeIssues(type.error));
    }
    if (type.data.type !== "event_callback") {
      return { kind: "ignored", reason: `Slack callback ${type.data.type} carries no event.` };
    }
    const callback = eventCallback.safeParse(payload);
    if (!callback.success) {
      throw new UninterpretableDelivery("slack", summarizeIssues(callback.error));
    }
    const reading = readSlackEvent(callback.data.team_id, callback.data.event, settings[BOT_USER_SETTING]);
    if (!reading.ok) {
      throw new UninterpretableDelivery("slack", reading.message);
    }
    return "ignored" in reading.value
      ? { kind: "ignored", reason: reading.value.ignored }
      : { kind: "commands", commands: reading.value.commands };
  },
};
