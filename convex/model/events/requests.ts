import { v, type Infer } from "convex/values";
import type { Id } from "../../_generated/dataModel";

/** What an `events` outbox row asks (docs/contract.md#events-out-telling-jangars-server-what-happened): send this event, read from its row when sent. */
export const vEventRequest = v.object({ kind: v.literal("event"), eventId: v.id("events") });
export type EventRequest = Infer<typeof vEventRequest>;

/** A session's events are one lane: sent one at a time, in the order they happened. */
export function sessionLane(sessionId: Id<"chat_sessions">): string {
  return sessionId;
}
