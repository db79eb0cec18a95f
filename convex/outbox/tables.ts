import { literals } from "convex-helpers/validators";
import { defineTable } from "convex/server";
import { v, type GenericValidator, type Infer } from "convex/values";
import { attemptFields } from "../model/platform/validators";

/*
 * The outbox's tables (part of convex/schema.ts): one row per request to
 * make to another service, whatever the destination; one lane per
 * (destination, lane key) with its runner; counts by destination and status.
 */

/** Where an outbox row stands: waiting, being sent (one per lane at a time), done, or given up. */
export const OUTBOX_STATUSES = ["queued", "sending", "sent", "failed"] as const;
export const vOutboxStatus = literals(...OUTBOX_STATUSES);
export type OutboxStatus = Infer<typeof vOutboxStatus>;

/**
 * Where a row's attempts stand (as the Slack outbox kept them before, too):
 * its status, its attempts (attemptFields), and what the last one asked (a
 * Web API method).
 */
const sendingFields = {
  status: vOutboxStatus,
  ...attemptFields,
  method: v.optional(v.string()),
};

/**
 * The table of a work order as another service shows it, kept up to date
 * through the outbox (a Slack card, a GitHub check run): one row per order
 * (indexed `by_workOrderId` where it is declared), where it is shown
 * (`fields`), and `latestRow`, the last outbox row queued to bring it up to
 * date: while that row is still queued, changes collapse into it, as it is
 * rendered when sent.
 */
export function orderShownAt<const Fields extends Record<string, GenericValidator>>(fields: Fields) {
  return defineTable({ workOrderId: v.id("work_orders"), latestRow: v.optional(v.id("outbox")), ...fields });
}

export const outboxTables = {
  // One row per request to make: written (convex/outbox/enqueue.ts) in the
  // transaction that makes the fact to tell, sent by its lane's runner
  // (convex/outbox/runner.ts), purged DELIVERY_RETENTION_DAYS after it was
  // sent; failed rows stay until replayed. `request` is the destination's
  // own (checked against its validator when queued); ordered rows go out in
  // the order they were queued (`enqueuedAt`), and one waiting for its retry
  // holds the lane's later ordered rows back; unordered rows go out when due.
  // `uncertain`: an attempt got no clear answer, and the other side may have
  // acted on it; `uncertainSince`: when the first attempt that may have been
  // acted on started (each claim sets it until an attempt is uncertain), so
  // that a look for its effect starts there; `result` and `httpStatus` are
  // what the last answer said.
  outbox: defineTable({
    destination: v.string(),
    lane: v.string(),
    ordered: v.boolean(),
    enqueuedAt: v.number(),
    request: v.any(),
    ...sendingFields,
    firstAttemptAt: v.optional(v.number()),
    uncertain: v.optional(v.literal(true)),
    uncertainSince: v.optional(v.number()),
    result: v.optional(v.string()),
    httpStatus: v.optional(v.number()),
  })
    // A lane's row being sent, and its oldest queued ordered row.
    .index("by_destination_lane_status_ordered_enqueuedAt", ["destination", "lane", "status", "ordered", "enqueuedAt"])
    // A lane's queued unordered rows, the soonest due first.
    .index("by_destination_lane_ordered_status_nextAttemptAt", ["destination", "lane", "ordered", "status", "nextAttemptAt"])
    .index("by_status_finishedAt", ["status", "finishedAt"])
    .index("by_destination_status_finishedAt", ["destination", "status", "finishedAt"]),

  // A lane's runner: the scheduled sendNext of its destination that works
  // through the lane's rows one request at a time (none while it has no
  // row), when it is due (so that a lost run can be found and replaced), and
  // the earliest time its next request may go (the destination's pace).
  outbox_lanes: defineTable({
    destination: v.string(),
    lane: v.string(),
    runner: v.optional(v.id("_scheduled_functions")),
    runAt: v.optional(v.number()),
    readyAt: v.optional(v.number()),
  })
    .index("by_destination_lane", ["destination", "lane"])
    .index("by_runAt", ["runAt"]),

  // Outbox rows per destination and status, spread over OUTBOX_TALLY_SHARDS
  // shards per destination (convex/outbox/rows.ts): a transaction that
  // queues rows, or moves one from one status to another, writes one shard
  // picked at random, with every status it changes; the count is the sum
  // over shards (and over `outbox_counters`, written before). Written by
  // enqueue, the runners, replays, purges and migrations; never deleted.
  outbox_tallies: defineTable({
    destination: v.string(),
    shard: v.number(),
    queued: v.number(),
    sending: v.number(),
    sent: v.number(),
    failed: v.number(),
  }).index("by_destination_shard", ["destination", "shard"]),

  // Before outbox_tallies (no longer written; read into the counts): outbox
  // rows per destination and status, 16 shards each, a status move writing two.
  outbox_counters: defineTable({
    destination: v.string(),
    status: vOutboxStatus,
    shard: v.number(),
    count: v.number(),
  }).index("by_destination_status_shard", ["destination", "status", "shard"]),
};

/** What a Slack outbox row asked, before the outbox took any destination (kept until migrations:moveSlackOutbox has run). */
const vLegacySlackRequest = v.union(
  v.object({ kind: v.literal("reply"), messageId: v.id("chat_messages"), part: v.number(), parts: v.number(), text: v.string() }),
  v.object({ kind: v.literal("card"), workOrderId: v.id("work_orders") }),
  v.object({ kind: v.literal("ephemeral"), user: v.string(), text: v.string() }),
);

/**
 * The Slack outbox's tables before the outbox took any destination: no
 * longer written, emptied by `migrations:moveSlackOutbox` (which moves
 * their queued and failed rows into `outbox`), and dropped from the schema
 * once every deployment has run it.
 */
export const legacySlackOutboxTables = {
  slack_outbox: defineTable({
    team: v.string(),
    channel: v.string(),
    threadTs: v.string(),
    request: vLegacySlackRequest,
    ...sendingFields,
    maybePosted: v.optional(v.literal(true)),
    ts: v.optional(v.string()),
  }),
  slack_lanes: defineTable({
    team: v.string(),
    channel: v.string(),
    runner: v.optional(v.id("_scheduled_functions")),
    runAt: v.optional(v.number()),
  }),
  slack_outbox_counters: defineTable({
    status: vOutboxStatus,
    shard: v.number(),
    count: v.number(),
  }),
};
