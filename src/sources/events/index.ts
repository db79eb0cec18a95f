import { storedPayload } from "../admission";
import { isEventOf } from "../eventTable";
import { deliveryKey, PRINTABLE_ID, Refused, UninterpretableDelivery, type WebhookSource } from "../source";
import { summarizeIssues } from "../zodIssues";
import { STANDARD_EVENTS } from "./standardEvents";
import { envelope } from "./payloads";
import { signingKeys, signStandardWebhook, verifyStandardWebhook } from "./signature";

function notActedOn(type: string): string {
  return `Event type ${type} is not acted on.`;
}

/** Chat platforms and workflow runners, as Standard Webhooks (Svix) events. */
export const events: WebhookSource = {
  name: "events",
  path: "/webhooks/events",
  secretVariable: "EVENTS_WEBHOOK_SECRET",
  settingNames: [],
  bodies: { "application/json": "json" },
  contentTypeAdvice: "send application/json.",
  requiredHeaders: [
    ["webhook-id", "svix-id"],
    ["webhook-timestamp", "svix-timestamp"],
    ["webhook-signature", "svix-signature"],
  ],
  takes: "Standard Webhooks",

  checkHeaders(headers) {
    if (!PRINTABLE_ID.test(headers["webhook-id"])) {
      throw new Refused(400, "webhook-id (or svix-id) must be 1 to 256 printable ASCII characters without spaces.");
    }
  },

  async verify({ headers, body, receivedAt }, secret) {
    const keys = signingKeys(secret, "EVENTS_WEBHOOK_SECRET");
    if (!keys.ok) {
      throw new Refused(503, keys.message);
    }
    const verified = await verifyStandardWebhook(
      keys.value,
      { id: headers["webhook-id"], timestamp: headers["webhook-timestamp"], signature: headers["webhook-signature"] },
      body,
      receivedAt / 1000,
    );
    if (!verified.ok) {
      throw new Refused(401, verified.message);
    }
  },

  async sign(secret, { body, id, timestamp }) {
    // The first of several secrets signs, as a sender that has moved to the new one during a rotation.
    const [first = ""] = secret.split(/\s+/).filter(Boolean);
    return {
      "webhook-id": id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": await signStandardWebhook(first, id, timestamp, body),
    };
  },

  read(payload, headers) {
    const event = envelope.safeParse(payload);
    if (!event.success) {
      throw new Refused(400, `The body is not a { type, timestamp, data } event: ${summarizeIssues(event.error)}`);
    }
    const { type, data } = event.data;
    const key = deliveryKey(headers["webhook-id"]);
    if (!isEventOf(STANDARD_EVENTS, type)) {
      return { deliveryKey: key, event: type, ignored: notActedOn(type) };
    }
    const read = STANDARD_EVENTS[type].read(data, type, "data");
    if (!read.ok) {
      throw new Refused(400, `The ${type} event's data is invalid: ${read.message}`);
    }
    return { deliveryKey: key, event: type };
  },

  interpret(delivery) {
    const stored = envelope.safeParse(storedPayload(events, delivery));
    if (!stored.success) {
      throw new UninterpretableDelivery("events", summarizeIssues(stored.error));
    }
    if (!isEventOf(STANDARD_EVENTS, delivery.event)) {
      return { kind: "ignored", reason: notActedOn(delivery.event) };
    }
    const read = STANDARD_EVENTS[delivery.event].read(stored.data.data, delivery.event, "data");
    if (!read.ok) {
      throw new UninterpretableDelivery("events", read.message);
    }
    return read.value.commands({ deliveryKey: delivery.deliveryKey });
  },
};
