import type { Infer } from "convex/values";
import { internal } from "../../_generated/api";
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../_generated/server";
import { CONVEX_LIMITS } from "../../../src/limits";
import { retryPolicy } from "../../../src/retry";
import { githubDeliveryGuid } from "../../../src/sources/github/deliveryGuid";
import type { SourceName } from "../../../src/sources/source";
import { deleteAttempts } from "./attempts";
import { bodyDocument, deleteBody } from "./bodies";
import { budget } from "../platform/budget";
import { INLINE_BODY_MAX_BYTES } from "../platform/config";
import { liveRun } from "../platform/scheduling";
import { DELIVERY_STATUSES, type vDeliveryStatus } from "../platform/validators";

export type DeliveryStatus = Infer<typeof vDeliveryStatus>;

/**
 * How a delivery whose processing failed is tried again (src/retry.ts):
 * after 30 s, 2.5 min, 12.5 min and an hour, each less up to a quarter at
 * random; after the fifth attempt it stays failed until an operator replays it.
 */
export const DELIVERY_RETRY = retryPolicy({ initialMs: 30_000, factor: 5, maxDelayMs: 60 * 60_000, maxAttempts: 5 });

// Shards per source: at 10,000 deliveries a minute, each shard is written about 2.6 times a second (docs/performance.md).
export const DELIVERY_TALLY_SHARDS = 128;

type StatusDeltas = Partial<Record<DeliveryStatus, number>>;

/**
 * Adds `deltas` to a source's counts: one shard, picked at random, read by a
 * point lookup and written once, whatever statuses change (a move from
 * accepted to processed is one write, not two).
 */
async function tally(ctx: MutationCtx, source: SourceName, deltas: StatusDeltas) {
  const shard = Math.floor(Math.random() * DELIVERY_TALLY_SHARDS);
  const row = await ctx.db
    .query("delivery_tallies")
    .withIndex("by_source_shard", (q) => q.eq("source", source).eq("shard", shard))
    .unique();
  const counts = { accepted: 0, processed: 0, ignored: 0, failed: 0, ...(row ?? {}) };
  for (const [status, delta] of Object.entries(deltas) as [DeliveryStatus, number][]) {
    counts[status] += delta;
  }
  const { accepted, processed, ignored, failed } = counts;
  if (row === null) {
    await ctx.db.insert("delivery_tallies", { source, shard, accepted, processed, ignored, failed });
  } else {
    await ctx.db.patch("delivery_tallies", row._id, { accepted, processed, ignored, failed });
  }
}

/** A source's deliveries by status: the sum of its shards, and of the counters kept before them. */
export async function deliveryCounts(ctx: QueryCtx, source: SourceName): Promise<Record<DeliveryStatus, number>> {
  const counts = { accepted: 0, processed: 0, ignored: 0, failed: 0 };
  for (const shard of await ctx.db
    .query("delivery_tallies")
    .withIndex("by_source_shard", (q) => q.eq("source", source))
    .take(DELIVERY_TALLY_SHARDS)) {
    for (const status of DELIVERY_STATUSES) {
      counts[status] += shard[status];
    }
  }
  for (const status of DELIVERY_STATUSES) {
    for (const old of await ctx.db
      .query("delivery_counters")
      .withIndex("by_source_status_shard", (q) => q.eq("source", source).eq("status", status))
      .take(OLD_COUNTER_SHARDS)) {
      counts[status] += old.count;
    }
  }
  return counts;
}

// The shards delivery_counters had per source and status.
const OLD_COUNTER_SHARDS = 8;

/** Records a new delivery and counts it. */
export async function insertDelivery(
  ctx: MutationCtx,
  delivery: Omit<Doc<"webhook_deliveries">, "_id" | "_creationTime">,
): Promise<Id<"webhook_deliveries">> {
  const deliveryId = await ctx.db.insert("webhook_deliveries", { ...delivery, deliveryGuid: githubDeliveryGuid(delivery) });
  await tally(ctx, delivery.source, { [delivery.status]: 1 });
  return deliveryId;
}

/** Changes a delivery, keeping the counts by status right. */
export async function updateDelivery(
  ctx: MutationCtx,
  delivery: Doc<"webhook_deliveries">,
  change: Partial<Omit<Doc<"webhook_deliveries">, "_id" | "_creationTime" | "source">>,
) {
  await ctx.db.patch("webhook_deliveries", delivery._id, change);
  if (change.status !== undefined && change.status !== delivery.status) {
    await tally(ctx, delivery.source, { [delivery.status]: -1, [change.status]: 1 });
  }
}

// Attempts deleted in the transaction that deletes their delivery; a longer history is deleted in scheduled batches.
const ATTEMPTS_DELETED_INLINE = 5;

// The most a delivery row or an attempt row may be. A delivery's notes are bounded (model/effects/report.ts),
// but its keys and progress make Convex's document limit the simplest bound that holds.
const DELIVERY_ROW_BYTES = CONVEX_LIMITS.documentBytes;
const ATTEMPT_ROW_BYTES = 64 * 1024;
const SMALL_ROWS_BYTES = 16 * 1024;

// The most a body's document may be: its text (model/platform/config.ts) as Convex measures it.
const BODY_DOCUMENT_BYTES = 2 * INLINE_BODY_MAX_BYTES;

/** The most deleting one delivery costs a batch job: the row read and deleted, its body, its first attempts, its counters. */
export const DELETE_DELIVERY_COST = budget({
  bytesRead: 2 * DELIVERY_ROW_BYTES + BODY_DOCUMENT_BYTES + (ATTEMPTS_DELETED_INLINE + 1) * ATTEMPT_ROW_BYTES + SMALL_ROWS_BYTES,
  documentsRead: 2 + 2 + (ATTEMPTS_DELETED_INLINE + 1) + 4,
  documentsWritten: 1 + 1 + ATTEMPTS_DELETED_INLINE + 2,
  databaseQueries: 5,
});

/** The most dropping one body costs a batch job: its document read and deleted, its file, its delivery's status read. */
export const DROP_BODY_COST = budget({
  bytesRead: BODY_DOCUMENT_BYTES + DELIVERY_ROW_BYTES + SMALL_ROWS_BYTES,
  documentsRead: 3,
  documentsWritten: 1,
  databaseQueries: 1,
});

/**
 * Schedules a delivery's processing run: a mutation for a body kept as text
 * (it cannot be lost, and applies in a nested transaction), an action for a
 * body in file storage (which only an action can read).
 */
export async function scheduleProcessing(
  ctx: MutationCtx,
  delivery: Pick<Doc<"webhook_deliveries">, "_id" | "inline">,
  delayMs = 0,
): Promise<Id<"_scheduled_functions">> {
  const args = { deliveryId: delivery._id };
  return delivery.inline
    ? await ctx.scheduler.runAfter(delayMs, internal.inbox.process.applyInline, args)
    : await ctx.scheduler.runAfter(delayMs, internal.inbox.process.processDelivery, args);
}

/** The most running a delivery again costs a batch job: the row read and patched, its run looked up, its counters, an attempt row. */
export const REQUEUE_DELIVERY_COST = budget({
  bytesRead: 2 * DELIVERY_ROW_BYTES + SMALL_ROWS_BYTES,
  bytesWritten: DELIVERY_ROW_BYTES + ATTEMPT_ROW_BYTES + SMALL_ROWS_BYTES,
  documentsRead: 2 + 4,
  documentsWritten: 1 + 1 + 2,
  databaseQueries: 4,
});

/**
 * Deletes deliveries one by one (`remove`), each with its stored body and
 * attempt history, then keeps the counts right with one counter write per
 * source (`countRemoved`), however many deliveries there are.
 */
export function deliveryRemover(ctx: MutationCtx) {
  const removed = new Map<SourceName, StatusDeltas>();
  return {
    async remove(delivery: Doc<"webhook_deliveries">) {
      await deleteBody(ctx, delivery);
      await ctx.db.delete("webhook_deliveries", delivery._id);
      const { more } = await deleteAttempts(ctx, delivery._id, ATTEMPTS_DELETED_INLINE);
      if (more) {
        await ctx.scheduler.runAfter(0, internal.inbox.maintenance.purgeAttempts, { deliveryId: delivery._id });
      }
      const deltas = removed.get(delivery.source) ?? {};
      deltas[delivery.status] = (deltas[delivery.status] ?? 0) - 1;
      removed.set(delivery.source, deltas);
    },
    async countRemoved() {
      for (const [source, deltas] of removed) {
        await tally(ctx, source, deltas);
      }
      removed.clear();
    },
  };
}

/** Deletes deliveries, as deliveryRemover does. */
export async function deleteDeliveries(ctx: MutationCtx, deliveries: Doc<"webhook_deliveries">[]) {
  const remover = deliveryRemover(ctx);
  for (const delivery of deliveries) {
    await remover.remove(delivery);
  }
  await remover.countRemoved();
}

/**
 * The delivery's last scheduled processing run: the row names every run but
 * the first, which its body's document names (so that recording writes the
 * row once).
 */
export async function processingRunOf(ctx: QueryCtx, delivery: Doc<"webhook_deliveries">): Promise<Id<"_scheduled_functions"> | undefined> {
  return delivery.scheduledRunId ?? (await bodyDocument(ctx, delivery._id))?.firstRun;
}

/** Whether the delivery's scheduled run has started and not finished: another run now would be a second one. */
export async function runInProgress(ctx: QueryCtx, delivery: Doc<"webhook_deliveries">): Promise<boolean> {
  return (await liveRun(ctx, await processingRunOf(ctx, delivery)))?.state.kind === "inProgress";
}

/** Cancels the delivery's scheduled run if it has not started: it is being replaced, or the delivery dropped. */
export async function cancelPendingRun(ctx: MutationCtx, delivery: Doc<"webhook_deliveries">) {
  const run = await liveRun(ctx, await processingRunOf(ctx, delivery));
  if (run !== null && run.state.kind === "pending") {
    await ctx.scheduler.cancel(run._id);
  }
}

/** A delivery that processing has finished with, for good or deliberately. */
export function isSettled(delivery: Doc<"webhook_deliveries">): boolean {
  return delivery.status === "processed" || delivery.status === "ignored";
}

/** Counts a delivery that arrived under a key already stored with another body. Conflicts are rare: one row per source. */
export async function countConflict(ctx: MutationCtx, source: SourceName) {
  const counter = await ctx.db
    .query("delivery_conflicts")
    .withIndex("by_source", (q) => q.eq("source", source))
    .unique();
  if (counter === null) {
    await ctx.db.insert("delivery_conflicts", { source, count: 1 });
  } else {
    await ctx.db.patch("delivery_conflicts", counter._id, { count: counter.count + 1 });
  }
}

/** How many deliveries of a source arrived under a key already stored with another body. */
export async function countConflicts(ctx: QueryCtx, source: SourceName) {
  const counter = await ctx.db
    .query("delivery_conflicts")
    .withIndex("by_source", (q) => q.eq("source", source))
    .unique();
  return counter?.count ?? 0;
}
