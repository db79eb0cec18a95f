import type { Id } from "../../_generated/dataModel";
import type { MutationCtx } from "../../_generated/server";
import type { EventData, EventType } from "../../../src/events/types";
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
  return setting(EVENTS_URL_SETTING) !== undefined && setting("JANGAR_EVENTS_SECRET") !== undefined;
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
  const eventId = await ctx.db.insert("events", { sessionId, type: event.type, data: event.data, occurredAt: Date.now() });
  if (eventsOutEnabled()) {
    await enqueue(ctx, eventsOutbox, sessionLane(sessionId), [{ request: { kind: "event", eventId } }]);
  }
  return eventId;
}
