import { v, type Infer } from "convex/values";
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../_generated/server";
import { LIMITS } from "../../../src/limits";
import { truncate } from "../../../src/text";
import { vTouched } from "../effects/report";
import { vTransactionCost } from "../platform/cost";

/*
 * The attempt history of a webhook delivery (docs/contract.md#trust-boundary):
 * what each processing attempt, recovery and replay did.
 * The delivery row shows where it stands now; these rows show how it got
 * there, and a replay never erases them.
 */

/**
 * processed / ignored: the attempt finished the delivery. failed: an error
 * (of the moment: retried at `retryAt` while attempts remain). uninterpretable:
 * the stored body does not read, final. lost: the scheduled run never
 * finished (recovery). replayed: an operator queued it again.
 */
export const vAttemptOutcome = v.union(
  v.literal("processed"),
  v.literal("ignored"),
  v.literal("failed"),
  v.literal("uninterpretable"),
  v.literal("lost"),
  v.literal("replayed"),
);
export type AttemptOutcome = Infer<typeof vAttemptOutcome>;

export const vAttempt = v.object({
  deliveryId: v.id("webhook_deliveries"),
  at: v.number(),
  outcome: vAttemptOutcome,
  error: v.optional(v.string()),
  // Why it was ignored; what a replay started from.
  detail: v.optional(v.string()),
  // When the next automatic attempt is due; absent when none follows.
  retryAt: v.optional(v.number()),
  // The records the attempt changed (the first KEPT_TOUCHED of them) and how many there were.
  touched: v.optional(v.array(vTouched)),
  touchedCount: v.optional(v.number()),
  cost: v.optional(vTransactionCost),
});
export type Attempt = Infer<typeof vAttempt>;

/**
 * How many touched records an attempt keeps: its row stays a few KB, so that
 * purging hundreds of them reads little (the delivery keeps the first 100 of its latest attempt).
 */
export const KEPT_TOUCHED = 20;

/** Adds a row to the delivery's history, at the current time. */
export async function recordAttempt(
  ctx: MutationCtx,
  deliveryId: Id<"webhook_deliveries">,
  attempt: Omit<Attempt, "deliveryId" | "at">,
) {
  await ctx.db.insert("delivery_attempts", {
    deliveryId,
    at: Date.now(),
    ...attempt,
    error: attempt.error === undefined ? undefined : truncate(attempt.error, LIMITS.reasonChars),
    detail: attempt.detail === undefined ? undefined : truncate(attempt.detail, LIMITS.reasonChars),
    touched: attempt.touched?.slice(0, KEPT_TOUCHED),
  });
}

/** The latest `limit` attempts of a delivery, oldest first. */
export async function latestAttempts(
  ctx: QueryCtx,
  deliveryId: Id<"webhook_deliveries">,
  limit: number,
): Promise<Doc<"delivery_attempts">[]> {
  const latest = await ctx.db
    .query("delivery_attempts")
    .withIndex("by_deliveryId", (q) => q.eq("deliveryId", deliveryId))
    .order("desc")
    .take(limit);
  return latest.reverse();
}

/** Deletes at most `budget` attempts of a delivery; `more` says whether any are left. */
export async function deleteAttempts(
  ctx: MutationCtx,
  deliveryId: Id<"webhook_deliveries">,
  budget: number,
): Promise<{ deleted: number; more: boolean }> {
  const batch = await ctx.db
    .query("delivery_attempts")
    .withIndex("by_deliveryId", (q) => q.eq("deliveryId", deliveryId))
    .take(budget + 1);
  const doomed = batch.slice(0, budget);
  for (const attempt of doomed) {
    await ctx.db.delete("delivery_attempts", attempt._id);
  }
  return { deleted: doomed.length, more: batch.length > budget };
}
