import type { Command } from "../../commands";
import type { z } from "zod";
import { LIMITS } from "../../limits";
import { checkStorableField } from "../../storable";
import { accept, reject as skipped, type Check } from "../../check";
import { storedPayload } from "../admission";
import { deliveryKey, PRINTABLE_ID, Refused, UninterpretableDelivery, type WebhookSource } from "../source";
import { summarizeIssues } from "../zodIssues";
import {
  EVENT_DATA,
  envelope,
  workOrderLinkAdded,
  workOrderStatusChanged,
  chatMessageCreated,
  type EventType,
} from "./payloads";
import { signingKeys, signStandardWebhook, verifyStandardWebhook } from "./signature";

function isEventType(type: string): type is EventType {
  return Object.hasOwn(EVENT_DATA, type);
}

/** A part of a stored body, read with its schema; what no longer reads is final. */
function readStored<T>(schema: z.ZodType<T>, value: unknown, path?: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new UninterpretableDelivery("events", summarizeIssues(parsed.error, path));
  }
  return parsed.data;
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
    if (!isEventType(type)) {
      return { deliveryKey: key, event: type, ignored: `Event type ${type} is not acted on.` };
    }
    const checked = EVENT_DATA[type].safeParse(data);
    if (!checked.success) {
      throw new Refused(400, `The ${type} event's data is invalid: ${summarizeIssues(checked.error, "data")}`);
    }
    return { deliveryKey: key, event: type };
  },

  interpret(delivery) {
    const { event } = delivery;
    const data = readStored(envelope, storedPayload(events, delivery)).data;
    const commands = ((): Check<Command[]> => {
      switch (event) {
        case "chat.message.created": {
          const message = readStored(chatMessageCreated, data, "data");
          // Checked before it becomes a command: metadata nested past Convex's limits cannot even be passed to a mutation.
          const metadata = message.metadata === undefined ? null : checkStorableField("metadata", message.metadata, LIMITS.valueBytes);
          if (metadata !== null && !metadata.ok) {
            return skipped(`Message events:${delivery.deliveryKey} not appended: ${metadata.message}`);
          }
          return accept([
            {
              type: "appendMessage",
              sessionId: message.sessionId,
              message: {
                externalId: `events:${delivery.deliveryKey}`,
                role: message.role,
                content: message.content,
                metadata: message.metadata,
              },
            },
          ]);
        }
        case "work_order.status.changed": {
          const change = readStored(workOrderStatusChanged, data, "data");
          return accept([
            {
              type: "changeStatus",
              workOrders: [{ by: "id", workOrderId: change.workOrderId }],
              to: change.status,
              reason: change.reason,
            },
          ]);
        }
        case "work_order.link.added": {
          const { workOrderId, kind, value } = readStored(workOrderLinkAdded, data, "data");
          return accept([{ type: "addLink", workOrders: [{ by: "id", workOrderId }], link: { kind, value } }]);
        }
        default:
          return accept([]);
      }
    })();
    if (!commands.ok) {
      return { kind: "ignored", reason: commands.message };
    }
    return commands.value.length > 0
      ? { kind: "commands", commands: commands.value }
      : { kind: "ignored", reason: `Event type ${event} is not acted on.` };
  },
};
