import { z } from "zod";
import { storedPayload } from "../admission";
import { deliveryKey, Refused, UninterpretableDelivery, type WebhookSource } from "../source";
import { summarizeIssues } from "../zodIssues";
import { readSlackEvent } from "./events";
import { appRateLimited, eventCallback, urlVerification } from "./payloads";
import { signSlackRequest, verifySlackSignature } from "./signature";

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
  bodies: { "application/json": "json" },
  contentTypeAdvice: "this endpoint takes Slack Events API callbacks (application/json).",
  requiredHeaders: ["X-Slack-Signature", "X-Slack-Request-Timestamp"],
  takes: "Slack Events API callbacks",

  // Slack's id, event_id, is in the signed body: `read` checks it.
  checkHeaders() {},

  async verify({ headers, body, receivedAt }, secret) {
    const timestamp = headers["X-Slack-Request-Timestamp"];
    const seconds = /^\d{1,12}$/.test(timestamp) ? Number(timestamp) : NaN;
    if (!(Math.abs(receivedAt / 1000 - seconds) <= WINDOW_SECONDS)) {
      throw new Refused(401, "X-Slack-Request-Timestamp is more than five minutes from now: a replayed or delayed request, or a clock out of sync.");
    }
    if (!(await verifySlackSignature(secret, timestamp, body, headers["X-Slack-Signature"]))) {
      throw new Refused(401, "X-Slack-Signature does not match: check that SLACK_SIGNING_SECRET is the app's Signing Secret.");
    }
  },

  async sign(secret, { body, timestamp }) {
    return {
      "X-Slack-Request-Timestamp": String(timestamp),
      "X-Slack-Signature": await signSlackRequest(secret, String(timestamp), body),
    };
  },

  read(payload, _headers, settings) {
    const parsed = envelope.safeParse(payload);
    if (!parsed.success) {
      throw new Refused(400, `The body is not a Slack callback: ${summarizeIssues(parsed.error)}`);
    }
    switch (parsed.data.type) {
      case "url_verification": {
        const challenge = urlVerification.safeParse(payload);
        if (!challenge.success) {
          throw new Refused(400, `The url_verification callback has no challenge: ${summarizeIssues(challenge.error)}`);
        }
        return {
          deliveryKey: deliveryKey("url_verification", challenge.data.challenge),
          event: "url_verification",
          ignored: "Slack's url_verification handshake, answered with its challenge.",
          reply: { challenge: challenge.data.challenge },
        };
      }
      case "app_rate_limited": {
        const limited = appRateLimited.safeParse(payload);
        if (!limited.success) {
          throw new Refused(400, `The app_rate_limited callback is not of the expected shape: ${summarizeIssues(limited.error)}`);
        }
        return {
          deliveryKey: deliveryKey("app_rate_limited", limited.data.team_id, String(limited.data.minute_rate_limited)),
          event: "app_rate_limited",
          ignored: "Slack is rate-limiting this app's events.",
        };
      }
      case "event_callback": {
        const callback = eventCallback.safeParse(payload);
        if (!callback.success) {
          throw new Refused(400, `The event_callback is not of the expected shape: ${summarizeIssues(callback.error)}`);
        }
        const { team_id, event_id, event } = callback.data;
        const reading = readSlackEvent(team_id, event, settings[BOT_USER_SETTING]);
        if (!reading.ok) {
          throw new Refused(400, reading.message);
        }
        return {
          // A key of one part never holds an unescaped `:`, so no event_id reads as a handshake's key.
          deliveryKey: deliveryKey(event_id),
          event: event.type,
          action: typeof event.subtype === "string" ? event.subtype : undefined,
          ignored: "ignored" in reading.value ? reading.value.ignored : undefined,
        };
      }
      default:
        throw new Refused(400, `Slack callback type ${JSON.stringify(parsed.data.type)} is not one of url_verification, event_callback, app_rate_limited.`);
    }
  },

  interpret(delivery, settings) {
    const payload = storedPayload(slack, delivery);
    const type = envelope.safeParse(payload);
    if (!type.success) {
      throw new UninterpretableDelivery("slack", summarizeIssues(type.error));
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

