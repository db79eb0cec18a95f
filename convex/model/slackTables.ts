import { defineTable } from "convex/server";
import { v } from "convex/values";
import { vOutboxRequest, vOutboxStatus } from "./slackValidators";

/*
 * The tables of the Slack side (part of convex/schema.ts): threads bound to
 * sessions, work-order cards, and the outbox that posts to Slack.
 */
export const slackTables = {
  // A Slack thread bound to the chat session its app mention started.
  slack_threads: defineTable({
    team: v.string(),
    channel: v.string(),
    threadTs: v.string(),
    sessionId: v.id("chat_sessions"),
  })
    .index("by_team_channel_threadTs", ["team", "channel", "threadTs"])
    .index("by_sessionId", ["sessionId"]),

  // The Slack message that shows a work order of a bound session (its card),
  // one per order, written by model/slackOutbox.ts. `ts` is set once Slack
  // has posted it; `queued` is the outbox row, not yet being sent, that will
  // bring the card up to date, so that changes made meanwhile collapse into it.
  slack_cards: defineTable({
    workOrderId: v.id("work_orders"),
    team: v.string(),
    channel: v.string(),
    threadTs: v.string(),
    ts: v.optional(v.string()),
    queued: v.optional(v.id("slack_outbox")),
  }).index("by_workOrderId", ["workOrderId"]),

  // One row per request to make to Slack's Web API (a reply's part, a card's
  // post or edit, an ephemeral answer), written when the fact to show is
  // written and sent per channel by outbox/send:sendNext: replies and cards in
  // creation order, ephemeral answers (seen by one person, outside the
  // thread's order) as soon as they are due. A reply carries its text; a card
  // is rendered from its order when sent. Sent rows are purged after
  // DELIVERY_RETENTION_DAYS; failed ones stay until replayed.
  slack_outbox: defineTable({
    team: v.string(),
    channel: v.string(),
    threadTs: v.string(),
    request: vOutboxRequest,
    status: vOutboxStatus,
    attempts: v.number(),
    // When the next attempt is due (queued rows); the method and answer of the last attempt.
    nextAttemptAt: v.optional(v.number()),
    // A post of which an attempt got no clear answer: Slack may hold it, so
    // the next attempt looks for it (by the row's marker) before posting.
    maybePosted: v.optional(v.literal(true)),
    method: v.optional(v.string()),
    ts: v.optional(v.string()),
    error: v.optional(v.string()),
    finishedAt: v.optional(v.number()),
  })
    // A channel's rows by status, and its oldest queued reply or card (in creation order, by kind).
    .index("by_team_channel_status_kind", ["team", "channel", "status", "request.kind"])
    // A channel's queued ephemeral answers, the soonest due first.
    .index("by_team_channel_kind_status_nextAttemptAt", ["team", "channel", "request.kind", "status", "nextAttemptAt"])
    .index("by_status_finishedAt", ["status", "finishedAt"]),

  // A channel's queue runner: the scheduled sendNext that works through the
  // channel's outbox rows one request at a time (none while the queue is
  // empty), and when it is due, so that a lost run can be found and replaced.
  slack_lanes: defineTable({
    team: v.string(),
    channel: v.string(),
    runner: v.optional(v.id("_scheduled_functions")),
    runAt: v.optional(v.number()),
  })
    .index("by_team_channel", ["team", "channel"])
    .index("by_runAt", ["runAt"]),

  // Outbox rows per status, kept like delivery_counters: in the transaction
  // that changes a row's status, spread over shards.
  slack_outbox_counters: defineTable({
    status: vOutboxStatus,
    shard: v.number(),
    count: v.number(),
  }).index("by_status_shard", ["status", "shard"]),
};
