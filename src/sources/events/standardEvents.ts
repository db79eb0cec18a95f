import type { Interpretation } from "../../commands";
import { LIMITS } from "../../limits";
import { checkStorableField } from "../../storable";
import { eventEntries } from "../eventTable";
import { chatMessageCreated, workOrderLinkAdded, workOrderStatusChanged } from "./payloads";

/** What an event's commands know of its delivery. */
type EventContext = { deliveryKey: string };

const standardEvent = eventEntries<EventContext, Interpretation>();

/**
 * The Standard Webhooks event types this service acts on (the body's
 * `type`), each with the schema of its `data` and its effect
 * (docs/contract.md section 4). Any other type is verified, recorded and ignored.
 */
export const STANDARD_EVENTS = {
  "chat.message.created": standardEvent({
    payload: chatMessageCreated,
    commands: (message, { deliveryKey }) => {
      const externalId = `events:${deliveryKey}`;
      // Checked before it becomes a command: metadata nested past Convex's limits cannot even be passed to a mutation.
      const metadata = message.metadata === undefined ? null : checkStorableField("metadata", message.metadata, LIMITS.valueBytes);
      if (metadata !== null && !metadata.ok) {
        return { kind: "ignored", reason: `Message ${externalId} not appended: ${metadata.message}` };
      }
      const { sessionId, role, content } = message;
      return {
        kind: "commands",
        commands: [{ type: "appendMessage", sessionId, message: { externalId, role, content, metadata: message.metadata } }],
      };
    },
  }),

  "work_order.status.changed": standardEvent({
    payload: workOrderStatusChanged,
    commands: ({ workOrderId, status, reason }) => ({
      kind: "commands",
      commands: [{ type: "changeStatus", workOrders: [{ by: "id", workOrderId }], to: status, reason }],
    }),
  }),

  "work_order.link.added": standardEvent({
    payload: workOrderLinkAdded,
    commands: ({ workOrderId, kind, value }) => ({
      kind: "commands",
      commands: [{ type: "addLink", workOrders: [{ by: "id", workOrderId }], link: { kind, value } }],
    }),
  }),
};
