import { v } from "convex/values";
import { internal } from "./_generated/api";
import { internalMutation } from "./_generated/server";
import { LINK_ROW_BYTES, ORDER_BYTES, VALUE_ROW_BYTES } from "./model/effects/budget";
import { vBatchCursor, walkBatch } from "./model/platform/batches";
import { budget } from "./model/platform/budget";
import { transactionCost } from "./model/platform/cost";
import { recountLinks } from "./model/workOrders/linkCounts";
import { MAX_LINKS_PER_ORDER } from "./model/workOrders/links";
import { MAX_LIVE_LINKS_PER_ORDER, rebuildLiveIndex } from "./model/workOrders/liveIndex";

/*
 * Data migrations an operator runs once after deploying the code that needs
 * them (docs/operations.md). Each is idempotent: it walks its table in
 * transactions that stay within Convex's limits and read at most 8 MiB of
 * rows (model/platform/batches.ts), schedules the next one itself until the table is
 * done, and changes nothing when run again.
 */

// Orders looked at per transaction, at most: a transaction also stops when the next order might not fit.
const ORDERS_PER_TRANSACTION = 100;

// What one order's backfill reads of the rows it walks: the order, its target, its issues and
// pull requests, its live rows (dropped and written again).
const ORDER_ROWS_BYTES = ORDER_BYTES + (4 * MAX_LIVE_LINKS_PER_ORDER + 16) * VALUE_ROW_BYTES;

// The most one order's backfill reads and writes: those rows, and its links counted (at most
// 5,001 rows read, however long their values) with its count's shards.
const PER_ORDER = budget({
  bytesRead: ORDER_ROWS_BYTES + (MAX_LINKS_PER_ORDER + 1) * LINK_ROW_BYTES,
  bytesWritten: (2 * MAX_LIVE_LINKS_PER_ORDER + 16) * VALUE_ROW_BYTES,
  documentsRead: 1 + MAX_LINKS_PER_ORDER + 1 + 4 * MAX_LIVE_LINKS_PER_ORDER + 16,
  documentsWritten: 2 * MAX_LIVE_LINKS_PER_ORDER + 16,
  databaseQueries: 16,
});

/**
 * Brings every work order written before the per-order link count and the
 * live-order indexes existed up to date: its links counted in
 * work_order_link_counts (so that the cap of 5,000 holds for it), and its
 * rows in work_order_live_targets / work_order_live_links as its status,
 * target and links say (so that webhooks find it by its branch and its
 * pull requests). `npx convex run migrations:backfillWorkOrders` starts it;
 * it goes on by itself (`after`: the index key of the last order done) and
 * logs each batch, with what its transaction cost, and the end.
 */
export const backfillWorkOrders = internalMutation({
  args: { after: v.optional(vBatchCursor) },
  returns: v.object({ checked: v.number(), linksCounted: v.number(), done: v.boolean() }),
  handler: async (ctx, { after }) => {
    let linksCounted = 0;
    const walk = await walkBatch(
      ctx,
      { table: "work_orders", index: "by_creation_time", from: [], to: [], after: after ?? null },
      { maxRows: ORDERS_PER_TRANSACTION, rowCost: PER_ORDER, rowBytes: ORDER_ROWS_BYTES, firstAlways: true },
      async (order) => {
        linksCounted += (await recountLinks(ctx, order._id)).added;
        await rebuildLiveIndex(ctx, order);
      },
    );
    const batch = `checked ${walk.done} work order(s), counted ${linksCounted} link(s) in one transaction ${JSON.stringify(await transactionCost(ctx))}`;
    if (walk.finished) {
      console.log(`migrations:backfillWorkOrders: done (this batch ${batch}).`);
    } else {
      console.log(`migrations:backfillWorkOrders: ${batch}; going on.`);
      await ctx.scheduler.runAfter(0, internal.migrations.backfillWorkOrders, { after: walk.after ?? undefined });
    }
    return { checked: walk.done, linksCounted, done: walk.finished };
  },
});
