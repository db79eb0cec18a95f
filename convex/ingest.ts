import { ConvexError, v } from "convex/values";
import { internal } from "./_generated/api";
import type { Doc } from "./_generated/dataModel";
import { internalMutation, internalQuery, type MutationCtx } from "./_generated/server";
import { SOURCES } from "../src/sources/source";
import { countConflicts, countDeliveries, updateDelivery } from "./model/deliveries";
import { DELIVERY_STATUSES, vDeliveryStatus, vSource } from "./model/validators";

/*
 * Operating the webhook inbox (docs/contract.md section 3): see it at a
 * glance, replay deliveries by hand. Receiving is in inbox/receive.ts,
 * processing in inbox/process.ts, the crons in inbox/maintenance.ts.
 */

const REPLAY_BATCH = 100;

/** Sets a delivery to be processed again now, with a fresh set of attempts. */
async function requeue(ctx: MutationCtx, delivery: Doc<"webhook_deliveries">) {
  await updateDelivery(ctx, delivery, { status: "accepted", attempts: 0, nextAttemptAt: Date.now() });
  await ctx.scheduler.runAfter(0, internal.inbox.process.processDelivery, { deliveryId: delivery._id });
}

/**
 * Operators: processes a delivery again (`npx convex run ingest:replay
 * '{"deliveryId": "..."}'`). Its effects are idempotent, so replaying a
 * processed delivery changes nothing twice.
 */
export const replay = internalMutation({
  args: { deliveryId: v.id("webhook_deliveries") },
  returns: v.object({ deliveryId: v.id("webhook_deliveries"), previousStatus: vDeliveryStatus }),
  handler: async (ctx, { deliveryId }) => {
    const delivery = await ctx.db.get("webhook_deliveries", deliveryId);
    if (delivery === null) {
      throw new ConvexError({ code: "NOT_FOUND", message: `Delivery ${deliveryId} does not exist (purged?).` });
    }
    await requeue(ctx, delivery);
    return { deliveryId, previousStatus: delivery.status };
  },
});

/** Operators: replays the oldest failed deliveries, of one source or all (`npx convex run ingest:replayFailed`). */
export const replayFailed = internalMutation({
  args: { source: v.optional(vSource), limit: v.optional(v.number()) },
  returns: v.array(v.id("webhook_deliveries")),
  handler: async (ctx, { source, limit }) => {
    const take = Math.min(Math.max(1, Math.floor(limit ?? 100)), REPLAY_BATCH);
    const failed =
      source === undefined
        ? await ctx.db
            .query("webhook_deliveries")
            .withIndex("by_status_receivedAt", (q) => q.eq("status", "failed"))
            .take(take)
        : await ctx.db
            .query("webhook_deliveries")
            .withIndex("by_source_status_receivedAt", (q) => q.eq("source", source).eq("status", "failed"))
            .take(take);
    for (const delivery of failed) {
      await requeue(ctx, delivery);
    }
    return failed.map((delivery) => delivery._id);
  },
});

/**
 * Operators: the inbox at a glance (`npx convex run ingest:inboxStatus`):
 * deliveries by source and status, and the most recent failures.
 */
export const inboxStatus = internalQuery({
  args: { failures: v.optional(v.number()) },
  returns: v.object({
    counts: v.array(v.object({ source: vSource, status: vDeliveryStatus, count: v.number() })),
    // Deliveries that arrived under a key already stored with another body (docs/contract.md section 3).
    conflicts: v.array(v.object({ source: vSource, count: v.number() })),
    recentFailures: v.array(
      v.object({
        deliveryId: v.id("webhook_deliveries"),
        source: vSource,
        deliveryKey: v.string(),
        event: v.string(),
        receivedAt: v.number(),
        attempts: v.number(),
        error: v.optional(v.string()),
        nextAttemptAt: v.optional(v.number()),
      }),
    ),
  }),
  handler: async (ctx, { failures }) => {
    const counts = [];
    for (const source of SOURCES) {
      for (const status of DELIVERY_STATUSES) {
        counts.push({ source, status, count: await countDeliveries(ctx, source, status) });
      }
    }
    const recent = await ctx.db
      .query("webhook_deliveries")
      .withIndex("by_status_receivedAt", (q) => q.eq("status", "failed"))
      .order("desc")
      .take(Math.min(Math.max(1, Math.floor(failures ?? 20)), 100));
    const conflicts = [];
    for (const source of SOURCES) {
      conflicts.push({ source, count: await countConflicts(ctx, source) });
    }
    return {
      counts,
      conflicts,
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
    };
  },
});

