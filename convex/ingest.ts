import { ConvexError, v } from "convex/values";
import { internal } from "./_generated/api";
import type { Doc, Id } from "./_generated/dataModel";
import { internalMutation, internalQuery, type MutationCtx, type QueryCtx } from "./_generated/server";
import { pageSize } from "../src/pageSize";
import { SOURCES } from "../src/sources/source";
import schema from "./schema";
import { latestAttempts, recordAttempt } from "./model/inbox/attempts";
import { keptBody } from "./model/inbox/bodies";
import { walkBatch, type BatchRange } from "./model/platform/batches";
import { transactionCost } from "./model/platform/cost";
import {
  cancelPendingRun,
  countConflicts,
  deliveryCounts,
  deleteDeliveries,
  REQUEUE_DELIVERY_COST,
  runInProgress,
  scheduleProcessing,
  updateDelivery,
} from "./model/inbox/deliveries";
import { DELIVERY_STATUSES, vDeliveryStatus, vSource } from "./model/platform/validators";
import { pauseOf } from "./model/inbox/pauses";
import { outboxCounts } from "./outbox/rows";
import { LIMITS } from "../src/limits";
import { truncate } from "../src/text";
import { vOutboxStatus } from "./outbox/tables";

/*
 * Operating the webhook inbox (docs/contract.md#trust-boundary): see it at a
 * glance, read a delivery's attempts, replay or discard deliveries by hand.
 * Receiving is in inbox/receive.ts, processing in inbox/process.ts, the
 * crons in inbox/maintenance.ts.
 */

const REPLAY_BATCH = 100;
const vDelivery = schema.tables.webhook_deliveries.validator;

/**
 * Sets a delivery to be processed again now, with a fresh round of attempts;
 * its history keeps every earlier attempt and gains a `replayed` row. The
 * caller has checked that no run of it is in progress: a delivery has at
 * most one live run.
 */
async function requeue(ctx: MutationCtx, delivery: Doc<"webhook_deliveries">) {
  // A run still waiting is replaced by this one, not run besides it.
  await cancelPendingRun(ctx, delivery);
  const scheduledRunId = await scheduleProcessing(ctx, delivery);
  await updateDelivery(ctx, delivery, { status: "accepted", attempts: 0, nextAttemptAt: Date.now(), scheduledRunId });
  await recordAttempt(ctx, delivery._id, {
    outcome: "replayed",
    detail: `Replayed by an operator; it was ${delivery.status} after ${delivery.attempts} attempt(s).`,
  });
}

function deliveryMissing(deliveryId: Id<"webhook_deliveries">) {
  return new ConvexError({ code: "NOT_FOUND", message: `Delivery ${deliveryId} does not exist (purged or discarded?).` });
}

/**
 * Operators: processes a delivery again (`npx convex run ingest:replay
 * '{"deliveryId": "..."}'`). Its effects are idempotent, so replaying a
 * processed delivery changes nothing twice. A finished delivery whose body
 * was dropped (DELIVERY_BODY_RETENTION_DAYS) has nothing left to process,
 * and is refused.
 */
export const replay = internalMutation({
  args: { deliveryId: v.id("webhook_deliveries") },
  returns: v.object({ deliveryId: v.id("webhook_deliveries"), previousStatus: vDeliveryStatus }),
  handler: async (ctx, { deliveryId }) => {
    const delivery = await ctx.db.get("webhook_deliveries", deliveryId);
    if (delivery === null) {
      throw deliveryMissing(deliveryId);
    }
    if (await runInProgress(ctx, delivery)) {
      throw new ConvexError({
        code: "INVALID_ARGUMENT",
        message: `Delivery ${deliveryId} is being processed right now; replay it once that run has ended (ingest:attempts shows how it ended).`,
      });
    }
    if ((await keptBody(ctx, delivery)) === null) {
      throw new ConvexError({
        code: "INVALID_ARGUMENT",
        message: `Delivery ${deliveryId} is ${delivery.status} and its body was dropped after DELIVERY_BODY_RETENTION_DAYS, so it cannot be processed again; its row and attempts (ingest:attempts) stay until DELIVERY_RETENTION_DAYS.`,
      });
    }
    await requeue(ctx, delivery);
    return { deliveryId, previousStatus: delivery.status };
  },
});

/**
 * Operators: replays the oldest failed deliveries, of one source or all
 * (`npx convex run ingest:replayFailed`): at most `limit` (100), fewer when
 * they are large (a transaction reads at most 8 MiB: run it again for the
 * rest); one whose retry is running now is left to it.
 */
export const replayFailed = internalMutation({
  args: { source: v.optional(vSource), limit: v.optional(v.number()) },
  returns: v.array(v.id("webhook_deliveries")),
  handler: async (ctx, { source, limit }) => {
    const replayed: Id<"webhook_deliveries">[] = [];
    const failed: BatchRange<"webhook_deliveries"> =
      source === undefined
        ? { table: "webhook_deliveries", index: "by_status_receivedAt", from: ["failed"], to: ["failed"], toInclusive: true, after: null }
        : { table: "webhook_deliveries", index: "by_source_status_receivedAt", from: [source, "failed"], to: [source, "failed"], toInclusive: true, after: null };
    await walkBatch(
      ctx,
      failed,
      { maxRows: pageSize(limit, { fallback: REPLAY_BATCH, max: REPLAY_BATCH }), rowCost: REQUEUE_DELIVERY_COST, firstAlways: true },
      async (delivery) => {
        if (!(await runInProgress(ctx, delivery))) {
          await requeue(ctx, delivery);
          replayed.push(delivery._id);
        }
      },
    );
    console.log(`ingest:replayFailed: replayed ${replayed.length} failed deliveries in one transaction ${JSON.stringify(await transactionCost(ctx))}`);
    return replayed;
  },
});

/**
 * Operators: drops a failed delivery, its stored body and its attempt
 * history (`npx convex run ingest:discard '{"deliveryId": "..."}'`), when
 * replaying it would not help. Only `failed` deliveries: finished ones are
 * purged after DELIVERY_RETENTION_DAYS, and `accepted` ones are still being
 * processed.
 */
export const discard = internalMutation({
  args: { deliveryId: v.id("webhook_deliveries") },
  returns: v.object({ deliveryId: v.id("webhook_deliveries"), ...vDelivery.pick("source", "deliveryKey", "event").fields }),
  handler: async (ctx, { deliveryId }) => {
    const delivery = await ctx.db.get("webhook_deliveries", deliveryId);
    if (delivery === null) {
      throw deliveryMissing(deliveryId);
    }
    if (delivery.status !== "failed") {
      throw new ConvexError({
        code: "INVALID_ARGUMENT",
        message: `Delivery ${deliveryId} is ${delivery.status}; only a failed delivery can be discarded (processed and ignored ones are purged after DELIVERY_RETENTION_DAYS; an accepted one is still being processed).`,
      });
    }
    await cancelPendingRun(ctx, delivery);
    await deleteDeliveries(ctx, [delivery]);
    const { source, deliveryKey, event } = delivery;
    return { deliveryId, source, deliveryKey, event };
  },
});

const vPause = schema.tables.inbox_pauses.validator;

/**
 * Operators: pauses processing of one source's deliveries
 * (`npx convex run ingest:pause '{"source": "github", "reason": "..."}'`).
 * Its deliveries are still verified, stored and answered 200, and held
 * until `ingest:resume`; a Slack slash command is answered that it will be
 * carried out then. Pausing a paused source keeps its first pause.
 */
export const pause = internalMutation({
  args: { source: vSource, reason: v.optional(v.string()) },
  returns: vPause,
  handler: async (ctx, { source, reason }) => {
    const paused = await pauseOf(ctx, source);
    if (paused !== null) {
      return { source, pausedAt: paused.pausedAt, reason: paused.reason };
    }
    const pause = { source, pausedAt: Date.now(), reason: reason === undefined ? undefined : truncate(reason, LIMITS.reasonChars) };
    await ctx.db.insert("inbox_pauses", pause);
    return pause;
  },
});

/**
 * Operators: resumes a paused source (`npx convex run ingest:resume
 * '{"source": "github"}'`): the deliveries held meanwhile are processed in
 * the order they were received, a batch of at most 100 a second.
 */
export const resume = internalMutation({
  args: { source: vSource },
  returns: v.object({ source: vSource, pausedAt: v.union(v.number(), v.null()) }),
  handler: async (ctx, { source }) => {
    const paused = await pauseOf(ctx, source);
    if (paused !== null) {
      await ctx.db.delete("inbox_pauses", paused._id);
    }
    // Also when it was not paused: a resume interrupted by another pause leaves held deliveries to take up.
    await ctx.scheduler.runAfter(0, internal.inbox.resume.resumeHeld, { source, cursor: null });
    return { source, pausedAt: paused?.pausedAt ?? null };
  },
});

/** Operators: a delivery's attempt history, oldest first (`npx convex run ingest:attempts '{"deliveryId": "..."}'`). */
export const attempts = internalQuery({
  args: { deliveryId: v.id("webhook_deliveries"), limit: v.optional(v.number()) },
  returns: v.array(schema.doc("delivery_attempts")),
  handler: async (ctx, { deliveryId, limit }) => {
    if ((await ctx.db.get("webhook_deliveries", deliveryId)) === null) {
      throw deliveryMissing(deliveryId);
    }
    return await latestAttempts(ctx, deliveryId, pageSize(limit, { fallback: 100, max: 100 }));
  },
});

// The most redelivery records counted: a count at this number means at least as many.
const REDELIVERIES_COUNTED = 5_000;

/** The sweep's redeliveries still on record (the last 3 days), by what GitHub answered. */
async function redeliveryCounts(ctx: QueryCtx) {
  const rows = await ctx.db.query("github_redeliveries").withIndex("by_askedAt").take(REDELIVERIES_COUNTED);
  const redelivered = rows.filter((row) => row.outcome === "asked").length;
  return { redelivered, refused: rows.length - redelivered };
}

/**
 * Operators: the inbox at a glance (`npx convex run ingest:inboxStatus`):
 * deliveries by source and status, the most recent failures, the age of
 * the oldest one, and the outbox's rows by destination and status
 * (outbox:status has its failures).
 */
export const inboxStatus = internalQuery({
  args: { failures: v.optional(v.number()) },
  returns: v.object({
    counts: v.array(schema.tables.delivery_counters.validator.pick("source", "status", "count")),
    // Deliveries that arrived under a key already stored with another body (docs/contract.md#trust-boundary).
    conflicts: v.array(schema.tables.delivery_conflicts.validator),
    recentFailures: v.array(
      vDelivery
        .pick("source", "deliveryKey", "event", "receivedAt", "attempts", "error", "nextAttemptAt")
        .extend({ deliveryId: v.id("webhook_deliveries") }),
    ),
    // The failed delivery received longest ago, and how long ago: failures wait for an operator.
    oldestFailure: v.union(
      vDelivery.pick("source", "receivedAt").extend({ deliveryId: v.id("webhook_deliveries"), ageMs: v.number() }),
      v.null(),
    ),
    outbound: v.array(v.object({ destination: v.string(), status: vOutboxStatus, count: v.number() })),
    // Sources an operator paused, since when and why: their deliveries are stored and held until ingest:resume.
    paused: v.array(vPause),
    // GitHub deliveries the sweep asked GitHub to redeliver in the last 3 days (inbox/githubRedeliveries:sweep), and those GitHub refused.
    githubRedeliveries: v.object({ redelivered: v.number(), refused: v.number() }),
  }),
  handler: async (ctx, { failures }) => {
    const counts = [];
    for (const source of SOURCES) {
      const bySource = await deliveryCounts(ctx, source);
      for (const status of DELIVERY_STATUSES) {
        counts.push({ source, status, count: bySource[status] });
      }
    }
    const recent = await ctx.db
      .query("webhook_deliveries")
      .withIndex("by_status_receivedAt", (q) => q.eq("status", "failed"))
      .order("desc")
      .take(pageSize(failures, { fallback: 20, max: 100 }));
    const oldest = await ctx.db
      .query("webhook_deliveries")
      .withIndex("by_status_receivedAt", (q) => q.eq("status", "failed"))
      .first();
    const conflicts = [];
    for (const source of SOURCES) {
      conflicts.push({ source, count: await countConflicts(ctx, source) });
    }
    return {
      counts,
      conflicts,
      oldestFailure:
        oldest === null
          ? null
          : {
              deliveryId: oldest._id,
              source: oldest.source,
              receivedAt: oldest.receivedAt,
              ageMs: Date.now() - oldest.receivedAt,
            },
      recentFailures: recent.map((delivery) => ({
        deliveryId: delivery._id,
        source: delivery.source,
        deliveryKey: delivery.deliveryKey,
        event: delivery.event,
        receivedAt: delivery.receivedAt,
        attempts: delivery.attempts,
        error: delivery.error,
        nextAttemptAt: delivery.nextAttemptAt,
      })),
      outbound: await outboxCounts(ctx),
      paused: (await ctx.db.query("inbox_pauses").withIndex("by_source").take(SOURCES.length)).map(({ source, pausedAt, reason }) => ({ source, pausedAt, reason })),
      githubRedeliveries: await redeliveryCounts(ctx),
    };
  },
});

