import { v } from "convex/values";
import { internal } from "../_generated/api";
import { internalMutation } from "../_generated/server";
import { deliveryRetentionMs } from "../model/config";
import { howRunEnded, liveRun, LOST_AFTER_MS } from "../model/scheduling";
import { scheduleLane } from "./lanes";
import { countRows, pageWithin } from "./rows";

/* The outbox's crons, for every destination: restart lost runners, purge sent rows. */

const BATCH = 100;

/**
 * Cron: restarts the runner of each lane whose runner was due more than
 * LOST_AFTER_MS ago and is neither pending nor running (a run lost, an
 * action that died), with a log line saying how it ended; the new run takes
 * up a row left `sending` as an attempt that got no answer.
 */
export const recoverLost = internalMutation({
  args: {},
  returns: v.number(),
  handler: async (ctx) => {
    const now = Date.now();
    const overdue = await ctx.db
      .query("outbox_lanes")
      .withIndex("by_runAt", (q) => q.gte("runAt", 0).lte("runAt", now - LOST_AFTER_MS))
      .take(BATCH);
    let recovered = 0;
    for (const lane of overdue) {
      if ((await liveRun(ctx, lane.runner)) !== null) {
        // Late but alive: looked at again only if it stays overdue, so it does not crowd out lost ones.
        await ctx.db.patch("outbox_lanes", lane._id, { runAt: now });
        continue;
      }
      console.warn(`outbox: the ${lane.destination} lane ${lane.lane} gets a new runner: ${await howRunEnded(ctx, lane.runner, "the outbox")}`);
      await scheduleLane(ctx, lane, 0);
      recovered += 1;
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
    const sent = await pageWithin(
      ctx,
      ctx.db.query("outbox").withIndex("by_status_finishedAt", (q) => q.eq("status", "sent").lt("finishedAt", Date.now() - deliveryRetentionMs())),
      BATCH,
    );
    const deleted = new Map<string, number>();
    for (const row of sent) {
      await ctx.db.delete("outbox", row._id);
      deleted.set(row.destination, (deleted.get(row.destination) ?? 0) + 1);
    }
    for (const [destination, count] of deleted) {
      await countRows(ctx, { destination, status: "sent" }, -count);
    }
    if (sent.length > 0) {
      // Until a run finds nothing left: a page may stop short of BATCH for its size.
      await ctx.scheduler.runAfter(0, internal.outbox.maintenance.purgeSent, {});
    }
    return sent.length;
  },
});
