import { literals } from "convex-helpers/validators";
import { defineTable } from "convex/server";
import { v } from "convex/values";
import { EVENT_TYPES } from "../../../src/events/types";

/*
 * Events out's table (part of convex/schema.ts): the log of every change
 * made by anything but a service's own call
 * (docs/contract.md#events-out-telling-jangars-server-what-happened).
 */

export const vEventType = literals(...EVENT_TYPES);

export const eventTables = {
  // One row per change, written (model/events/record.ts) in the
  // transaction that makes the change, whether or not the deployment sends
  // events over HTTP: a long-lived server may read them instead
  // (events:list). `data` is the event type's data (src/events/types.ts,
  // EVENT_DATA) as it was then, but a message's metadata, which is kept as
  // its JSON text in `metadata` (it may nest 15 levels, and a document no
  // more than 16); `occurredAt` is when it happened. The
  // outbox's `events` rows point at it; purged DELIVERY_RETENTION_DAYS after
  // it was written (events:purgeExpired). In order: by _creationTime,
  // which every index ends with.
  events: defineTable({
    sessionId: v.id("chat_sessions"),
    type: vEventType,
    data: v.any(),
    metadata: v.optional(v.string()),
    occurredAt: v.number(),
  }).index("by_sessionId", ["sessionId"]),
};
