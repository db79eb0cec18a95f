import { v } from "convex/values";
import { internal } from "../_generated/api";
import { internalMutation } from "../_generated/server";
import { deliveryRetentionMs } from "../model/config";
import { deleteDelivery } from "../model/deliveries";

/* The inbox's crons: recover lost runs, purge old deliveries. */

// A delivery whose scheduled run has not finished this long after it was due is run again.
const LOST_AFTER_MS = 10 * 60 * 1000;
const RECOVER_BATCH = 100;
const PURGE_BATCH = 100;

/**
 * Cron: runs again deliveries whose run was due more than LOST_AFTER_MS ago
 * and has not finished (a scheduled run lost, an action that died).
 */
export const recoverLost = internalMutation({
  args: {},
  returns: v.number(),
  handler: async (ctx) => {
    const now = Date.now();
    const cutoff = now - LOST_AFTER_MS;
    let recovered = 0;
    for (const status of ["accepted", "failed"] as const) {
      const due = await ctx.db
        .query("webhook_deliveries")
        .withIndex("by_status_nextAttemptAt", (q) =>
          q.eq("status", status).gte("nextAttemptAt", 0).lte("nextAttemptAt", cutoff),
        )
        .take(RECOVER_BATCH - recovered);
      for (const delivery of due) {
        await ctx.db.patch("webhook_deliveries", delivery._id, { nextAttemptAt: now });
        await ctx.scheduler.runAfter(0, internal.inbox.process.processDelivery, { deliveryId: delivery._id });
      }
      recovered += due.length;
    }
    if (recovered === RECOVER_BATCH) {
      await ctx.scheduler.runAfter(0, internal.inbox.maintenance.recoverLost, {});
    }
    return recovered;
  },
});

/** Cron: deletes deliveries older than DELIVERY_RETENTION_DAYS with their bodies, a batch per run. */
export const purgeExpired = internalMutation({
  args: {},
  returns: v.number(),
  handler: async (ctx) => {
    const cutoff = Date.now() - deliveryRetentionMs();
    const expired = await ctx.db
      .query("webhook_deliveries")
      .withIndex("by_receivedAt", (q) => q.lt("receivedAt", cutoff))
      .take(PURGE_BATCH);
    for (const delivery of expired) {
      await deleteDelivery(ctx, delivery);
    }
    if (expired.length === PURGE_BATCH) {
      await ctx.scheduler.runAfter(0, internal.inbox.maintenance.purgeExpired, {});
    }
    return expired.length;
  },
});
