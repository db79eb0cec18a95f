import { zid } from "convex-helpers/server/zod4";
import { z } from "zod";
import { CHAT_ROLES } from "../chat/roles";
import { LINK_KINDS } from "../workOrders/links";
import { STATUS_SOURCES, WORK_ORDER_STATUSES } from "../workOrders/status";

/*
 * Events out (docs/contract.md#events-out-telling-jangars-server-what-happened):
 * what this deployment tells Jangar's server, as Standard Webhooks requests
 * whose body is `{ type, timestamp, data }`. The schemas here are the one
 * definition of each type's `data`: the events-out destination builds its
 * bodies to them, and the service client parses what it receives with them.
 * Ids are typed as the tables' ids (`zid`), so that the server passes them
 * straight back to the public functions; `zodToConvex` (convex-helpers)
 * turns any schema here into a Convex validator.
 */

/** Where a change came from: a sender, the reconciler, or `api` (a user's call; a service's own calls make no event). */
export const eventSource = z.enum(STATUS_SOURCES);
const sessionId = zid("chat_sessions");
const messageId = zid("chat_messages");
const workOrderId = zid("work_orders");
const status = z.enum(WORK_ORDER_STATUSES);

/** The `data` of each event type. */
export const EVENT_DATA = {
  "chat.message.created": z.object({
    sessionId,
    messageId,
    role: z.enum(CHAT_ROLES),
    content: z.string(),
    metadata: z.unknown().optional(),
    source: eventSource,
  }),
  "chat.message.updated": z.object({ sessionId, messageId, content: z.string() }),
  "chat.message.deleted": z.object({ sessionId, messageId }),
  "work_order.created": z.object({
    workOrderId,
    sessionId,
    workflowType: z.string(),
    title: z.string(),
    status,
    requestedBy: z.string(),
    source: eventSource,
    retryOf: workOrderId.optional(),
  }),
  "work_order.status.changed": z.object({
    workOrderId,
    sessionId,
    from: status,
    to: status,
    source: eventSource,
    reason: z.string().optional(),
  }),
  "work_order.link.added": z.object({
    workOrderId,
    sessionId,
    kind: z.enum(LINK_KINDS),
    value: z.string(),
    source: eventSource,
  }),
};

export type EventType = keyof typeof EVENT_DATA;
export const EVENT_TYPES = Object.keys(EVENT_DATA) as EventType[];
export type EventData<T extends EventType> = z.infer<(typeof EVENT_DATA)[T]>;

/** When the change happened, as ISO 8601 (`new Date(ms).toISOString()`). */
export const eventTimestamp = z.iso.datetime({ offset: true });

/** The body of one events-out request of type `type`. */
function eventOf<T extends EventType>(type: T) {
  return z.object({ type: z.literal(type), timestamp: eventTimestamp, data: EVENT_DATA[type] });
}

/** Any events-out body, told apart by its `type`. */
export const jangarEvent = z.discriminatedUnion("type", [
  eventOf("chat.message.created"),
  eventOf("chat.message.updated"),
  eventOf("chat.message.deleted"),
  eventOf("work_order.created"),
  eventOf("work_order.status.changed"),
  eventOf("work_order.link.added"),
]);
export type JangarEvent = z.infer<typeof jangarEvent>;

/** An event's body as it is sent and signed: JSON of `{ type, timestamp, data }`, in that order. */
export function eventBody(event: JangarEvent): string {
  return JSON.stringify({ type: event.type, timestamp: event.timestamp, data: event.data });
}
