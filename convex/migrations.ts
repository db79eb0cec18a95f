import { v } from "convex/values";
import { internal } from "./_generated/api";
import type { Doc } from "./_generated/dataModel";
import { internalMutation } from "./_generated/server";
import { budget, fits, LINK_ROW_BYTES, ORDER_BYTES, VALUE_ROW_BYTES } from "./model/effects/budget";
import { recountLinks } from "./model/workOrders/linkCounts";
import { MAX_LINKS_PER_ORDER } from "./model/workOrders/links";
import { MAX_LIVE_LINKS_PER_ORDER, rebuildLiveIndex } from "./model/workOrders/liveIndex";

/*
 * Data migrations an operator runs once after deploying the code that needs
 * them (docs/operations.md). Each is idempotent: it walks its table in
 * transactions that stay within Convex's limits, schedules the next one
 * itself until the table is done, and changes nothing when run again.
 */

// Orders looked at per transaction, at most: a transaction also stops when the next order might not fit.
const ORDERS_PER_TRANSACTION = 100;

// The most one order's backfill reads and writes: the order, its links counted, its count's
// shards, its target, its issues and pull requests, its live rows (dropped and written again).
const PER_ORDER = budget({
  bytesRead: ORDER_BYTES + (MAX_LINKS_PER_ORDER + 1) * LINK_ROW_BYTES + (4 * MAX_LIVE_LINKS_PER_ORDER + 16) * VALUE_ROW_BYTES,
  bytesWritten: (2 * MAX_LIVE_LINKS_PER_ORDER + 16) * VALUE_ROW_BYTES,
  documentsRead: 1 + MAX_LINKS_PER_ORDER + 1 + 4 * MAX_LIVE_LINKS_PER_ORDER + 16,
  documentsWritten: 2 * MAX_LIVE_LINKS_PER_ORDER + 16,
  databaseQueries: 16,
});

/**
 * Where the walk over work_orders stands: past every order created before
 * `creationTime`, and past the first `skip` created at that very time (two
 * transactions may give their documents the same creation time).
 */
const vCursor = v.object({ creationTime: v.number(), skip: v.number() });

/**
 * Brings every work order written before the per-order link count and the
 * live-order indexes existed up to date: its links counted in
 * work_order_link_counts (so that the cap of 5,000 holds for it), and its
 * rows in work_order_live_targets / work_order_live_links as its status,
 * target and links say (so that webhooks find it by its branch and its
 * pull requests). `npx convex run migrations:backfillWorkOrders` starts it;
 * it goes on by itself and logs each batch and the end.
 */
export const backfillWorkOrders = internalMutation({
  args: { after: v.optional(vCursor) },
  returns: v.object({ checked: v.number(), linksCounted: v.number(), done: v.boolean() }),
  handler: async (ctx, { after }) => {
    let cursor = after ?? { creationTime: Number.NEGATIVE_INFINITY, skip: 0 };
    const rows = await ctx.db
      .query("work_orders")
      .withIndex("by_creation_time", (q) => (after === undefined ? q : q.gte("_creationTime", after.creationTime)))
      .take(cursor.skip + ORDERS_PER_TRANSACTION);
    // Past the rows the cursor has done: the first `skip` of those created at its very time.
    let start = 0;
    while (start < cursor.skip && start < rows.length && rows[start]._creationTime === cursor.creationTime) {
      start += 1;
    }
    const todo = rows.slice(start);
    let checked = 0;
    let linksCounted = 0;
    for (const order of todo) {
      if (checked > 0 && !(await fits(ctx, PER_ORDER))) {
        break;
      }
      linksCounted += (await recountLinks(ctx, order._id)).added;
      await rebuildLiveIndex(ctx, order);
      cursor = nextCursor(cursor, order);
      checked += 1;
    }
    const done = checked === todo.length && rows.length < (after?.skip ?? 0) + ORDERS_PER_TRANSACTION;
    if (done) {
      console.log(`migrations:backfillWorkOrders: done (this batch checked ${checked} work order(s), counted ${linksCounted} link(s)).`);
    } else {
      console.log(`migrations:backfillWorkOrders: checked ${checked} work order(s), counted ${linksCounted} link(s); going on.`);
      await ctx.scheduler.runAfter(0, internal.migrations.backfillWorkOrders, { after: cursor });
    }
    return { checked, linksCounted, done };
  },
});

function nextCursor(cursor: { creationTime: number; skip: number }, order: Doc<"work_orders">) {
  return order._creationTime === cursor.creationTime
    ? { creationTime: cursor.creationTime, skip: cursor.skip + 1 }
    : { creationTime: order._creationTime, skip: 1 };
}
