import { accept, type Check } from "../../check";
import { defineSource } from "../defineSource";
import { deliveryKey, PRINTABLE_ID, Refused } from "../source";
import { rowOf, shaped, type Row } from "../table";
import { envelope } from "./payloads";
import { signingKeys, signStandardWebhook, verifyStandardWebhook } from "./signature";
import { STANDARD_EVENTS, type StandardReading } from "./standardEvents";

function notActedOn(type: string): string {
  return `Event type ${type} is not acted on.`;
}

const readEnvelope = shaped((issues) => `The body is not a { type, timestamp, data } event: ${issues}`, envelope, (event) => accept(event));

/**
 * The event's type, and what it asks (null: a type not acted on): the
 * envelope read with its schema, then its data with the schema of its type,
 * the body's own (at receipt) or the one it was recorded as (`recorded`).
 */
function readStandardEvent(payload: unknown, recorded?: string): Check<{ type: string; reading: StandardReading | null }> {
  const event = readEnvelope(payload, undefined);
  if (!event.ok) return event;
  const { data } = event.value;
  const type = recorded ?? event.value.type;
  const row = rowOf<Row<void, StandardReading>>(STANDARD_EVENTS, type);
  if (row === undefined) return accept({ type, reading: null });
  const read = row(data, undefined);
  return read.ok ? accept({ type, reading: read.value }) : read;
}

/** Chat platforms and workflow runners, as Standard Webhooks (Svix) events. */
export const events = defineSource({
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
      throw new Refused(503, `${keys.message} Nothing was stored.`);
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

  readPayload(payload, headers) {
    const event = readStandardEvent(payload);
    if (!event.ok) return event;
    const { type, reading } = event.value;
    const delivery = { deliveryKey: deliveryKey(headers["webhook-id"]), event: type };
    return accept(reading === null ? { ...delivery, ignored: notActedOn(type) } : delivery);
  },

  interpretPayload(payload, delivery) {
    const event = readStandardEvent(payload, delivery.event);
    if (!event.ok) return event;
    const { type, reading } = event.value;
    return accept(reading === null ? { kind: "ignored", reason: notActedOn(type) } : reading({ deliveryKey: delivery.deliveryKey }));
  },
});
