import { v } from "convex/values";
import { internal } from "../_generated/api";
import type { Doc } from "../_generated/dataModel";
import { internalMutation } from "../_generated/server";
import { LIMITS } from "../../src/limits";
import { MAX_ATTEMPTS } from "../../src/retry";
import { truncate } from "../../src/text";
import { deleteAttempts, recordAttempt } from "../model/inbox/attempts";
import { deliveryRetentionMs } from "../model/platform/config";
import { deleteDeliveries, scheduledRun, updateDelivery } from "../model/inbox/deliveries";
import { isLive, type ScheduledRun } from "../model/platform/scheduling";

/* The inbox's crons: recover lost runs, purge finished deliveries. */

// A delivery whose scheduled run has not finished this long after it was due is looked at again.
const LOST_AFTER_MS = 10 * 60 * 1000;
const RECOVER_PAGE = 100;
const PURGE_BATCH = 100;
const ATTEMPTS_PURGE_BATCH = 200;

const vUnfinished = v.union(v.literal("accepted"), v.literal("failed"));

/** How a delivery's last scheduled run, over and not live, came to leave the delivery unfinished. */
function howRunEnded(run: ScheduledRun | null): string {
  if (run === null) {
    return "its scheduled run is gone";
  }
  const { state } = run;
  if (state.kind === "failed") {
    return `its run failed outside the inbox's handling${state.error ? `: ${state.error}` : ""}`;
  }
  return state.kind === "canceled" ? "its run was canceled" : "its run ended without recording an outcome";
}

/**
 * Cron: delivery runs due more than LOST_AFTER_MS ago that did not finish
 * (an action that ran out of memory or time, a lost scheduled run) are run
 * again. Each recovery counts as an attempt, so a run that keeps dying ends
 * `failed` once the attempts are spent. A page at a time, accepted then
 * failed; every page reads the range the first one fixed (`dueBefore`), as
 * a cursor only continues the query it came from.
 */
export const recoverLost = internalMutation({
  args: {
    status: v.optional(vUnfinished),
    cursor: v.optional(v.union(v.string(), v.null())),
    dueBefore: v.optional(v.number()),
  },
  returns: v.number(),
  handler: async (ctx, { status = "accepted", cursor = null, dueBefore = Date.now() - LOST_AFTER_MS }) => {
    const now = Date.now();
    const page = await ctx.db
      .query("webhook_deliveries")
      .withIndex("by_status_nextAttemptAt", (q) =>
        q.eq("status", status).gte("nextAttemptAt", 0).lte("nextAttemptAt", dueBefore),
      )
      .paginate({ cursor, numItems: RECOVER_PAGE });
    let recovered = 0;
    for (const delivery of page.page) {
      const run = await scheduledRun(ctx, delivery);
      if (run !== null && isLive(run)) {
        // Pending (however late) or running: it may still finish, and a second run must not start beside it.
        continue;
      }
      const lost = howRunEnded(run);
      const attempts = delivery.attempts + 1;
      const error = truncate(
        `The run due at ${new Date(delivery.nextAttemptAt!).toISOString()} did not finish: ${lost}.`,
        LIMITS.reasonChars,
      );
      if (attempts >= MAX_ATTEMPTS) {
        await updateDelivery(ctx, delivery, { status: "failed", attempts, error, nextAttemptAt: undefined, finishedAt: now });
        await recordAttempt(ctx, delivery._id, { outcome: "lost", error });
      } else {
        const scheduledRunId = await ctx.scheduler.runAfter(0, internal.inbox.process.processDelivery, {
          deliveryId: delivery._id,
        });
        await updateDelivery(ctx, delivery, { attempts, nextAttemptAt: now, scheduledRunId });
        await recordAttempt(ctx, delivery._id, { outcome: "lost", error, retryAt: now });
      }
      recovered += 1;
    }
    if (!page.isDone) {
      await ctx.scheduler.runAfter(0, internal.inbox.maintenance.recoverLost, { status, cursor: page.continueCursor, dueBefore });
    } else if (status === "accepted") {
      await ctx.scheduler.runAfter(0, internal.inbox.maintenance.recoverLost, { status: "failed", cursor: null, dueBefore });
    }
    return recovered;
  },
});

/**
 * Cron: deletes finished deliveries (`processed`, `ignored`) older than
 * DELIVERY_RETENTION_DAYS, with their bodies and attempts, a batch per run.
 * `failed` and `accepted` ones are kept whatever their age: an operator
 * replays or discards them.
 */
export const purgeExpired = internalMutation({
  args: {},
  returns: v.number(),
  handler: async (ctx) => {
    const cutoff = Date.now() - deliveryRetentionMs();
    const expired: Doc<"webhook_deliveries">[] = [];
    for (const status of ["processed", "ignored"] as const) {
      expired.push(
        ...(await ctx.db
          .query("webhook_deliveries")
          .withIndex("by_status_receivedAt", (q) => q.eq("status", status).lt("receivedAt", cutoff))
          .take(PURGE_BATCH - expired.length)),
      );
    }
    await deleteDeliveries(ctx, expired);
    if (expired.length === PURGE_BATCH) {
      await ctx.scheduler.runAfter(0, internal.inbox.maintenance.purgeExpired, {});
    }
    return expired.length;
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
