import { defineTable } from "convex/server";
import { v } from "convex/values";

/*
 * The table of operator alerts (part of convex/schema.ts; docs/operations.md#alerts).
 */
export const alertTables = {
  // One row per condition told at least once (`deliveryFailed:github`,
  // `outboxFailed:slack`, `ordersFailed`, `oldestFailure:hour`...): when its
  // last alert was queued. Read by every transaction that notices the
  // condition, written only by the one that queues an alert, so at most once
  // an hour (convex/model/alerts/notice.ts). `noticed`: orders the reconciler
  // failed since the last alert and not yet told (the reconciler's pages run
  // one at a time, so counting them writes no document others write);
  // `subject`: the failure the last oldest-failure alert was about.
  alert_conditions: defineTable({
    condition: v.string(),
    lastAlertedAt: v.number(),
    noticed: v.optional(v.number()),
    subject: v.optional(v.string()),
  }).index("by_condition", ["condition"]),
};
