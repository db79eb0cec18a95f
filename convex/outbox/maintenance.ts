import { v } from "convex/values";
import { internal } from "../_generated/api";
import { internalMutation } from "../_generated/server";
import { deliveryRetentionMs } from "../model/platform/config";
import { countOutbox, laneIsRunning, scheduleLane } from "../model/slackOutbox";

/* The Slack outbox's crons: restart lost runners, purge sent rows. */

// A lane whose runner was due this long ago and is neither pending nor running has lost it.
const LOST_AFTER_MS = 10 * 60 * 1000;
const BATCH = 100;

/**
 * Cron: restarts the runner of each channel whose runner was due more than
 * LOST_AFTER_MS ago and is neither pending nor running (a run lost, an
 * action that died); the new run takes up a row left `sending`.
 */
export const recoverLost = internalMutation({
  args: {},
  returns: v.number(),
  handler: async (ctx) => {
    const now = Date.now();
    const overdue = await ctx.db
      .query("slack_lanes")
      .withIndex("by_runAt", (q) => q.gte("runAt", 0).lte("runAt", now - LOST_AFTER_MS))
      .take(BATCH);
    let recovered = 0;
    for (const lane of overdue) {
      if (await laneIsRunning(ctx, lane)) {
        // Late but alive: looked at again only if it stays overdue, so it does not crowd out lost ones.
        await ctx.db.patch("slack_lanes", lane._id, { runAt: now });
      } else {
        await scheduleLane(ctx, lane, 0);
        recovered += 1;
      }
    }
    if (overdue.length === BATCH) {
      await ctx.scheduler.runAfter(0, internal.outbox.maintenance.recoverLost, {});
    }
    return recovered;
  },
});

/** Cron: deletes rows sent longer than DELIVERY_RETENTION_DAYS ago, a batch per run; failed rows stay. */
export const purgeSent = internalMutation({
  args: {},
  returns: v.number(),
  handler: async (ctx) => {
    const sent = await ctx.db
      .query("slack_outbox")
      .withIndex("by_status_finishedAt", (q) => q.eq("status", "sent").lt("finishedAt", Date.now() - deliveryRetentionMs()))
      .take(BATCH);
    for (const row of sent) {
      await ctx.db.delete("slack_outbox", row._id);
    }
    if (sent.length > 0) {
      await countOutbox(ctx, "sent", -sent.length);
    }
    if (sent.length === BATCH) {
      await ctx.scheduler.runAfter(0, internal.outbox.maintenance.purgeSent, {});
    }
    return sent.length;
  },
});

