import { defineTable } from "convex/server";
import { v } from "convex/values";
import { orderShownAt } from "../../outbox/tables";

/*
 * The tables of the Slack side (part of convex/schema.ts): threads bound to
 * sessions, and work-order cards. What is posted to Slack goes through the
 * outbox (convex/outbox/tables.ts).
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
  // one per order, written by model/slack/cards.ts and the Slack adapter of
  // the outbox. `ts` is set once Slack has posted it; `latestRow` is the
  // last outbox row queued to bring it up to date: while that row is still
  // queued (not yet being sent), changes collapse into it, as it is rendered
  // when sent. `queued` is what older code kept instead, cleared by
  // migrations:moveSlackOutbox.
  slack_cards: orderShownAt({
    team: v.string(),
    channel: v.string(),
    threadTs: v.string(),
    ts: v.optional(v.string()),
    queued: v.optional(v.id("slack_outbox")),
  }).index("by_workOrderId", ["workOrderId"]),
};
