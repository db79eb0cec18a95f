import type { z } from "zod";
import { accept } from "../../check";
import type { Interpretation } from "../../commands";
import { LIMITS } from "../../limits";
import { checkStorableField } from "../../storable";
import { shaped, type Row } from "../table";
import { chatMessageCreated, workOrderLinkAdded, workOrderStatusChanged } from "./payloads";

/** What an event asks of the data, given its delivery (a message's external id is made of its key). */
export type StandardReading = (delivery: { deliveryKey: string }) => Interpretation;

/** The row of an event type: the schema of its `data`, and what such data asks. */
const standardEvent = <Schema extends z.ZodType>(
  type: string,
  data: Schema,
  read: (data: z.output<Schema>, delivery: { deliveryKey: string }) => Interpretation,
) =>
  shaped(
    (issues) => `The ${type} event's data is invalid: ${issues}`,
    data,
    (parsed: z.output<Schema>) => accept<StandardReading>((delivery) => read(parsed, delivery)),
    "data",
  );

/**
 * The Standard Webhooks event types this service acts on (the body's
 * `type`), each with the schema of its `data` and its effect
 * (docs/contract.md#standard-webhooks-webhooksevents-body--type-timestamp-data-).
 * Any other type is verified, recorded and ignored.
 */
export const STANDARD_EVENTS = {
  "chat.message.created": standardEvent("chat.message.created", chatMessageCreated, (message, { deliveryKey }) => {
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
  }),

  "work_order.status.changed": standardEvent("work_order.status.changed", workOrderStatusChanged, ({ workOrderId, status, reason }) => ({
    kind: "commands",
    commands: [{ type: "changeStatus", workOrders: [{ by: "id", workOrderId }], to: status, reason }],
  })),

  "work_order.link.added": standardEvent("work_order.link.added", workOrderLinkAdded, ({ workOrderId, kind, value }) => ({
    kind: "commands",
    commands: [{ type: "addLink", workOrders: [{ by: "id", workOrderId }], link: { kind, value } }],
  })),
} satisfies Record<string, Row<void, StandardReading>>;
