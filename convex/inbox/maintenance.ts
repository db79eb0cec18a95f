import { v } from "convex/values";
import { internal } from "../_generated/api";
import { internalMutation } from "../_generated/server";
import { LIMITS } from "../../src/limits";
import { retriesSpent } from "../../src/retry";
import { truncate } from "../../src/text";
import { deleteAttempts, recordAttempt } from "../model/inbox/attempts";
import { noticeDeliveryFailed } from "../model/alerts/notice";
import { vBatchCursor, walkBatch } from "../model/platform/batches";
import { dropBody } from "../model/inbox/bodies";
import { bodyRetentionMs, deliveryRetentionMs } from "../model/platform/config";
import { transactionCost } from "../model/platform/cost";
import {
  DELETE_DELIVERY_COST,
  DELIVERY_RETRY,
  deliveryRemover,
  DROP_BODY_COST,
  isSettled,
  processingRunOf,
  REQUEUE_DELIVERY_COST,
  scheduleProcessing,
  updateDelivery,
} from "../model/inbox/deliveries";
import { howRunEnded, liveRun, LOST_AFTER_MS } from "../model/platform/scheduling";

/*
 * The inbox's crons: recover lost runs, purge finished deliveries and drop
 * their bodies. Each
 * reads at most 8 MiB a transaction, whatever the deliveries' sizes, and
 * goes on in the next (model/platform/batches.ts); each logs what a transaction did
 * and cost.
 */

const RECOVER_PAGE = 100;
// Deliveries deleted, or bodies dropped, per transaction at most; the 8 MiB read budget allows about as many
// (docs/performance.md#retention-at-15-million-deliveries-a-day).
const PURGE_BATCH = 500;
const ATTEMPTS_PURGE_BATCH = 200;

const vUnfinished = v.union(v.literal("accepted"), v.literal("failed"));

/**
 * Cron: delivery runs due more than LOST_AFTER_MS ago that did not finish
 * (an action that ran out of memory or time, a lost scheduled run) are run
 * again. Each recovery counts as an attempt, so a run that keeps dying ends
 * `failed` once the attempts are spent. A page at a time, accepted then
 * failed; every page reads the range the first one fixed (`dueBefore`),
 * after the last delivery the previous page looked at (`cursor`).
 */
export const recoverLost = internalMutation({
  args: {
    status: v.optional(vUnfinished),
    cursor: v.optional(v.union(vBatchCursor, v.null())),
    dueBefore: v.optional(v.number()),
  },
  returns: v.number(),
  handler: async (ctx, { status = "accepted", cursor = null, dueBefore = Date.now() - LOST_AFTER_MS }) => {
    const now = Date.now();
    let recovered = 0;
    const page = await walkBatch(
      ctx,
      { table: "webhook_deliveries", index: "by_status_nextAttemptAt", from: [status, 0], to: [status, dueBefore], toInclusive: true, after: cursor },
      { maxRows: RECOVER_PAGE, rowCost: REQUEUE_DELIVERY_COST, firstAlways: true },
      async (delivery) => {
        const runId = await processingRunOf(ctx, delivery);
        if ((await liveRun(ctx, runId)) !== null) {
          // Pending (however late) or running: it may still finish, and a second run must not start beside it.
          return;
        }
        const lost = await howRunEnded(ctx, runId, "the inbox");
        const attempts = delivery.attempts + 1;
        const error = truncate(
          `The run due at ${new Date(delivery.nextAttemptAt!).toISOString()} did not finish: ${lost}.`,
          LIMITS.reasonChars,
        );
        if (retriesSpent(DELIVERY_RETRY, { attemptsMade: attempts, now }) !== null) {
          await updateDelivery(ctx, delivery, { status: "failed", attempts, error, nextAttemptAt: undefined, finishedAt: now });
          await recordAttempt(ctx, delivery._id, { outcome: "lost", error });
          await noticeDeliveryFailed(ctx, delivery, error);
        } else {
          const scheduledRunId = await scheduleProcessing(ctx, delivery);
          await updateDelivery(ctx, delivery, { attempts, nextAttemptAt: now, scheduledRunId });
          await recordAttempt(ctx, delivery._id, { outcome: "lost", error, retryAt: now });
        }
        recovered += 1;
      },
    );
    if (page.done > 0) {
      console.log(`inbox: recovered ${recovered} of ${page.done} ${status} deliveries looked at in one transaction ${JSON.stringify(await transactionCost(ctx))}`);
    }
    if (!page.finished) {
      await ctx.scheduler.runAfter(0, internal.inbox.maintenance.recoverLost, { status, cursor: page.after, dueBefore });
    } else if (status === "accepted") {
      await ctx.scheduler.runAfter(0, internal.inbox.maintenance.recoverLost, { status: "failed", cursor: null, dueBefore });
    }
    return recovered;
  },
});

/**
 * Cron, hourly: deletes finished deliveries (`processed`, `ignored`) older
 * than DELIVERY_RETENTION_DAYS, with their bodies and attempts, a batch per
 * run (at most 500, within the batch budget), each scheduling the next until
 * none is left; then drops the bodies of finished deliveries older than
 * DELIVERY_BODY_RETENTION_DAYS (dropExpiredBodies). `failed` and `accepted`
 * ones are kept whatever their age, with their bodies: an operator replays
 * or discards them. Deleted rows leave the range, so every run reads it from
 * its start. A DELIVERY_BODY_RETENTION_DAYS that cannot apply (longer than
 * DELIVERY_RETENTION_DAYS, or not a number) holds back only the dropping of
 * bodies, logged once a run; the rows are purged whatever it says.
 */
export const purgeExpired = internalMutation({
  args: {},
  returns: v.number(),
  handler: async (ctx) => {
    const cutoff = Date.now() - deliveryRetentionMs();
    const remover = deliveryRemover(ctx);
    let purged = 0;
    let finished = true;
    for (const status of ["processed", "ignored"] as const) {
      const walk = await walkBatch(
        ctx,
        { table: "webhook_deliveries", index: "by_status_receivedAt", from: [status], to: [status, cutoff], after: null },
        { maxRows: PURGE_BATCH - purged, rowCost: DELETE_DELIVERY_COST, firstAlways: purged === 0 },
        async (delivery) => await remover.remove(delivery),
      );
      purged += walk.done;
      if (!walk.finished) {
        finished = false;
        break;
      }
    }
    await remover.countRemoved();
    if (purged > 0) {
      console.log(`inbox: purged ${purged} finished deliveries in one transaction ${JSON.stringify(await transactionCost(ctx))}`);
    }
    if (!finished) {
      await ctx.scheduler.runAfter(0, internal.inbox.maintenance.purgeExpired, {});
      return purged;
    }
    const bodyRetention = bodyRetentionMs();
    if (!bodyRetention.ok) {
      console.error(`inbox: no bodies dropped, they stay until their deliveries are purged: ${bodyRetention.message}`);
    } else if (Date.now() - bodyRetention.value > cutoff) {
      // Bodies kept as long as their rows went with them.
      await ctx.scheduler.runAfter(0, internal.inbox.maintenance.dropExpiredBodies, { bodyCutoff: Date.now() - bodyRetention.value });
    }
    return purged;
  },
});

/**
 * Drops the bodies (their documents and files) of finished deliveries whose
 * bodies were kept before `bodyCutoff`, oldest first, a batch per run, each
 * scheduling the next; the delivery rows and their attempts stay until
 * DELIVERY_RETENTION_DAYS. Each hour's walk starts where the last one
 * stopped (delivery_body_walks), so the bodies of `failed` and `accepted`
 * deliveries are passed over once, not read again every hour: they stay
 * until their rows are purged, with them, whatever status they end in. Rows
 * recorded before `delivery_bodies` keep their file until the row is purged.
 */
export const dropExpiredBodies = internalMutation({
  // `cursor`: only on runs scheduled before the walk's place was kept in delivery_body_walks; unused.
  args: { cursor: v.optional(v.union(vBatchCursor, v.null())), bodyCutoff: v.number() },
  returns: v.number(),
  handler: async (ctx, { bodyCutoff }) => {
    const place = await ctx.db.query("delivery_body_walks").first();
    let dropped = 0;
    const walk = await walkBatch(
      ctx,
      { table: "delivery_bodies", index: "by_creation_time", from: [], to: [bodyCutoff], after: place?.after ?? null },
      { maxRows: PURGE_BATCH, rowCost: DROP_BODY_COST, firstAlways: true },
      async (kept) => {
        const delivery = await ctx.db.get("webhook_deliveries", kept.deliveryId);
        if (delivery !== null && isSettled(delivery)) {
          await dropBody(ctx, kept);
          dropped += 1;
        }
      },
    );
    if (walk.done > 0) {
      const after = walk.after!;
      await (place === null ? ctx.db.insert("delivery_body_walks", { after }) : ctx.db.patch("delivery_body_walks", place._id, { after }));
      console.log(`inbox: dropped ${dropped} of ${walk.done} expired bodies looked at in one transaction ${JSON.stringify(await transactionCost(ctx))}`);
    }
    if (!walk.finished) {
      await ctx.scheduler.runAfter(0, internal.inbox.maintenance.dropExpiredBodies, { bodyCutoff });
    }
    return dropped;
  },
});

/** The rest of a deleted delivery's attempt history, a batch per run. */
export const purgeAttempts = internalMutation({
  args: { deliveryId: v.id("webhook_deliveries") },
  returns: v.null(),
  handler: async (ctx, { deliveryId }) => {
    const { more } = await deleteAttempts(ctx, deliveryId, ATTEMPTS_PURGE_BATCH);
    if (more) {
      await ctx.scheduler.runAfter(0, internal.inbox.maintenance.purgeAttempts, { deliveryId });
    }
    return null;
  },
});
