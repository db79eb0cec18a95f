import { v } from "convex/values";
import { internal } from "./_generated/api";
import type { Doc } from "./_generated/dataModel";
import { internalMutation, type MutationCtx } from "./_generated/server";
import { LINK_ROW_BYTES, ORDER_BYTES, VALUE_ROW_BYTES } from "./model/effects/budget";
import { vBatchCursor, walkBatch } from "./model/platform/batches";
import { budget } from "./model/platform/budget";
import { transactionCost } from "./model/platform/cost";
import { liveRun } from "./model/platform/scheduling";
import { cardOf } from "./model/slack/cards";
import { laneOfRequest, type SlackRequest } from "./model/slack/requests";
import { recountLinks } from "./model/workOrders/linkCounts";
import { MAX_LINKS_PER_ORDER } from "./model/workOrders/links";
import { MAX_LIVE_LINKS_PER_ORDER, rebuildLiveIndex } from "./model/workOrders/liveIndex";
import { wakeLane } from "./outbox/lanes";
import { slackOutbox } from "./outbox/registry";
import { OUTBOX_ROW_BYTES, OUTBOX_ROW_COST } from "./outbox/maintenance";
import { countRows } from "./outbox/rows";
import type { OutboxStatus } from "./outbox/tables";

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
// pull requests, its live rows (dropped and written again), its live requester row.
const ORDER_ROWS_BYTES = ORDER_BYTES + (4 * MAX_LIVE_LINKS_PER_ORDER + 18) * VALUE_ROW_BYTES;

// The most one order's backfill reads and writes: those rows, and its links counted (at most
// 5,001 rows read, however long their values) with its count's shards.
const PER_ORDER = budget({
  bytesRead: ORDER_ROWS_BYTES + (MAX_LINKS_PER_ORDER + 1) * LINK_ROW_BYTES,
  bytesWritten: (2 * MAX_LIVE_LINKS_PER_ORDER + 18) * VALUE_ROW_BYTES,
  documentsRead: 1 + MAX_LINKS_PER_ORDER + 1 + 4 * MAX_LIVE_LINKS_PER_ORDER + 18,
  documentsWritten: 2 * MAX_LIVE_LINKS_PER_ORDER + 18,
  databaseQueries: 18,
});

/**
 * Brings every work order written before the per-order link count and the
 * live-order indexes existed up to date: its links counted in
 * work_order_link_counts (so that the cap of 5,000 holds for it), and its
 * rows in work_order_live_targets / work_order_live_links /
 * work_order_live_requesters as its status, requester, target and links say
 * (so that webhooks find it by its branch and its pull requests, and it
 * counts against JANGAR_MAX_LIVE_ORDERS). `npx convex run
 * migrations:backfillWorkOrders` starts it; it goes on by itself (`after`:
 * the index key of the last order done) and logs each batch, with what its
 * transaction cost, and the end.
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

// Rows of the Slack outbox from before moved per transaction, at most (fewer when they are large: model/platform/batches.ts).
const LEGACY_ROWS_PER_TRANSACTION = 100;

/**
 * Moves what the Slack outbox held before the outbox took any destination
 * (`slack_outbox`, `slack_lanes`, `slack_outbox_counters`) into the outbox:
 * each queued or failed row (a row left `sending` by a run that died is
 * queued again, marked uncertain, as the runner would), oldest first and
 * keeping its place in its channel's order, its attempts, error and Slack
 * answer; a card's queued row stays the one its changes collapse into.
 * Sent rows are dropped (they were kept only to be purged). Then the old
 * lanes (their runners canceled) and counters are deleted.
 * `npx convex run migrations:moveSlackOutbox` starts it; it goes on by
 * itself, logs each batch and the end, and changes nothing when run again.
 */
export const moveSlackOutbox = internalMutation({
  args: {},
  returns: v.object({ moved: v.number(), dropped: v.number(), done: v.boolean() }),
  handler: async (ctx) => {
    let moved = 0;
    const counted = new Map<OutboxStatus, number>();
    const lanes = new Set<string>();
    // Moved rows are deleted: every transaction starts from the oldest left.
    const walk = await walkBatch(
      ctx,
      { table: "slack_outbox", index: "by_creation_time", from: [], to: [], after: null },
      { maxRows: LEGACY_ROWS_PER_TRANSACTION, rowCost: OUTBOX_ROW_COST, rowBytes: OUTBOX_ROW_BYTES, firstAlways: true },
      async (row) => {
        await ctx.db.delete("slack_outbox", row._id);
        if (row.status === "sent") {
          return;
        }
        const status = row.status === "sending" ? "queued" : row.status;
        const newId = await insertMovedRow(ctx, row, status);
        counted.set(status, (counted.get(status) ?? 0) + 1);
        if (status === "queued") {
          lanes.add(laneOfRequest(movedRequest(row)));
        }
        moved += 1;
        const card = row.request.kind === "card" ? await cardOf(ctx, row.request.workOrderId) : null;
        if (card !== null && card.queued === row._id) {
          await ctx.db.patch("slack_cards", card._id, { latestRow: newId, queued: undefined });
        }
      },
    );
    const dropped = walk.done - moved;
    if (counted.size > 0) {
      await countRows(ctx, slackOutbox.destination, Object.fromEntries(counted));
    }
    for (const lane of lanes) {
      await wakeLane(ctx, slackOutbox.destination, lane);
    }
    const done = walk.done === 0 && (await dropLegacyLanesAndCounters(ctx));
    const line = `moved ${moved} row(s), dropped ${dropped} sent row(s) in one transaction ${JSON.stringify(await transactionCost(ctx))}`;
    if (done) {
      console.log(`migrations:moveSlackOutbox: done (this batch ${line}).`);
    } else {
      console.log(`migrations:moveSlackOutbox: ${line}; going on.`);
      await ctx.scheduler.runAfter(0, internal.migrations.moveSlackOutbox, {});
    }
    return { moved, dropped, done };
  },
});

/** What a row of the Slack outbox from before asked, with its thread. */
function movedRequest({ team, channel, threadTs, request }: Doc<"slack_outbox">): SlackRequest {
  return { ...request, thread: { team, channel, threadTs } };
}

/** A row of the Slack outbox from before, as an outbox row: its thread in its request, its creation time as its place in the order. */
async function insertMovedRow(ctx: MutationCtx, row: Doc<"slack_outbox">, status: "queued" | "failed") {
  const request = movedRequest(row);
  return await ctx.db.insert("outbox", {
    destination: slackOutbox.destination,
    lane: laneOfRequest(request),
    ordered: request.kind !== "ephemeral",
    enqueuedAt: row._creationTime,
    request,
    status,
    attempts: row.attempts,
    nextAttemptAt: status === "queued" ? (row.nextAttemptAt ?? Date.now()) : undefined,
    uncertain: row.maybePosted ?? (row.status === "sending" ? true : undefined),
    method: row.method,
    result: row.ts,
    error: row.error,
    finishedAt: status === "failed" ? row.finishedAt : undefined,
  });
}

/** Deletes a batch of the old lanes (canceling a runner still waiting) and counters; true once none is left. */
async function dropLegacyLanesAndCounters(ctx: MutationCtx): Promise<boolean> {
  const lanes = await ctx.db.query("slack_lanes").withIndex("by_creation_time").take(LEGACY_ROWS_PER_TRANSACTION);
  for (const lane of lanes) {
    const run = await liveRun(ctx, lane.runner);
    if (run !== null && run.state.kind === "pending") {
      await ctx.scheduler.cancel(run._id);
    }
    await ctx.db.delete("slack_lanes", lane._id);
  }
  const counters = await ctx.db.query("slack_outbox_counters").withIndex("by_creation_time").take(LEGACY_ROWS_PER_TRANSACTION);
  for (const counter of counters) {
    await ctx.db.delete("slack_outbox_counters", counter._id);
  }
  return lanes.length < LEGACY_ROWS_PER_TRANSACTION && counters.length < LEGACY_ROWS_PER_TRANSACTION;
}
