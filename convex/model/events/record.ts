import { convexToJson, type Value } from "convex/values";
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx } from "../../_generated/server";
import { EVENTS_SECRET_SETTING } from "../../../src/events/sign";
import type { EventData, EventType, JangarEvent } from "../../../src/events/types";
import { enqueue } from "../../outbox/enqueue";
import { eventsOutbox } from "../../outbox/registry";
import type { ChangeOrigin } from "../platform/callers";
import { setting } from "../platform/config";
import { sessionLane } from "./requests";

/*
 * Events out's writing side (docs/contract.md#events-out-telling-jangars-server-what-happened):
 * each choke point (appending a message, a sender's edit and deletion,
 * creating an order, changeStatus, adding a link) records its change here,
 * in its own transaction. A change a service made by its own call is not
 * an event. Every other one is kept (events:list reads them), and, with
 * JANGAR_EVENTS_URL and JANGAR_EVENTS_SECRET set, queued to the outbox's
 * `events` destination in the session's lane.
 *
 *   await recordEvent(ctx, callOrigin(ctx.caller), {
 *     type: "chat.message.created",
 *     data: { sessionId, messageId, role, content, source: "api" },
 *   });
 */

/** One change, as its type and data. */
export type ChangeEvent = { [T in EventType]: { type: T; data: EventData<T> } }[EventType];

export const EVENTS_URL_SETTING = "JANGAR_EVENTS_URL";

/** Sending events is on when both settings are; with either unset nothing is queued. */
export function eventsOutEnabled(): boolean {
  return setting(EVENTS_URL_SETTING) !== undefined && setting(EVENTS_SECRET_SETTING) !== undefined;
}

/**
 * Records a change as an event (and queues it to be sent when sending is
 * on), unless a service made it by its own call. Returns the event's id.
 */
export async function recordEvent(ctx: MutationCtx, origin: ChangeOrigin, event: ChangeEvent): Promise<Id<"events"> | null> {
  if (origin.byService) {
    return null;
  }
  const { sessionId } = event.data;
  const { metadata, ...data } = event.data as typeof event.data & { metadata?: Value };
  const eventId = await ctx.db.insert("events", {
    sessionId,
    type: event.type,
    data,
    ...(metadata === undefined ? {} : { metadata: JSON.stringify(convexToJson(metadata)) }),
    occurredAt: Date.now(),
  });
  if (eventsOutEnabled()) {
    await enqueue(ctx, eventsOutbox, sessionLane(sessionId), [{ request: { kind: "event", eventId } }]);
  }
  return eventId;
}

/** An event's row as the event it records, `{ type, timestamp, data }`: what is sent, and what events:list gives. */
export function eventOfRow(row: Pick<Doc<"events">, "type" | "occurredAt" | "data" | "metadata">): JangarEvent {
  const data = row.metadata === undefined ? row.data : { ...row.data, metadata: JSON.parse(row.metadata) as unknown };
  return { type: row.type, timestamp: new Date(row.occurredAt).toISOString(), data } as JangarEvent;
}
