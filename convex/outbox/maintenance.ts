import { v } from "convex/values";
import { internal } from "../_generated/api";
import { internalMutation } from "../_generated/server";
import { CONVEX_LIMITS } from "../../src/limits";
import { walkBatch } from "../model/platform/batches";
import { budget } from "../model/platform/budget";
import { deliveryRetentionMs } from "../model/platform/config";
import { transactionCost } from "../model/platform/cost";
import { howRunEnded, liveRun, LOST_AFTER_MS } from "../model/platform/scheduling";
import { scheduleLane } from "./lanes";
import { countRows } from "./rows";

/*
 * The outbox's crons, for every destination: restart lost runners, purge
 * sent rows. A batch job reads at most 8 MiB a transaction, whatever its
 * rows' sizes, and goes on in the next (model/platform/batches.ts).
 */

const BATCH = 100;

// The most an outbox row may be: each destination bounds its requests (a Slack reply's part is at most
// 3,900 characters), and Convex's document limit holds for every one.
export const OUTBOX_ROW_BYTES = CONVEX_LIMITS.documentBytes;

/** The most a batch job's work on one outbox row costs: the row read and written (queued again, moved, purged), its counters, its lane and its runner. */
export const OUTBOX_ROW_COST = budget({
  bytesRead: 2 * OUTBOX_ROW_BYTES + 16 * 1024,
  bytesWritten: OUTBOX_ROW_BYTES + 16 * 1024,
  documentsRead: 8,
  documentsWritten: 6,
  databaseQueries: 6,
});

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
    const deleted = new Map<string, number>();
    // Purged rows are gone: every transaction starts from the oldest left.
    const walk = await walkBatch(
      ctx,
      { table: "outbox", index: "by_status_finishedAt", from: ["sent"], to: ["sent", Date.now() - deliveryRetentionMs()], after: null },
      { maxRows: BATCH, rowCost: OUTBOX_ROW_COST, rowBytes: OUTBOX_ROW_BYTES, firstAlways: true },
      async (row) => {
        await ctx.db.delete("outbox", row._id);
        deleted.set(row.destination, (deleted.get(row.destination) ?? 0) + 1);
      },
    );
    for (const [destination, count] of deleted) {
      await countRows(ctx, destination, { sent: -count });
    }
    if (walk.done > 0) {
      console.log(`outbox: purged ${walk.done} sent row(s) in one transaction ${JSON.stringify(await transactionCost(ctx))}`);
    }
    if (!walk.finished) {
      await ctx.scheduler.runAfter(0, internal.outbox.maintenance.purgeSent, {});
    }
    return walk.done;
  },
});
