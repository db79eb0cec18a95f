import type { Doc } from "../../_generated/dataModel";
import type { MutationCtx } from "../../_generated/server";

/**
 * How often a work order's updatedAt may move for a link, arg or target
 * change. A status change always moves it (changeStatus); these move it at
 * most once a minute, so that a burst of pushes to one branch does not write
 * the order's document in every transaction (docs/contract.md#trust-boundary).
 */
export const TOUCH_INTERVAL_MS = 60 * 1000;

/** Marks a link, arg or target change on the order, unless it was marked within the last minute. */
export async function touchWorkOrder(ctx: MutationCtx, order: Doc<"work_orders">) {
  const now = Date.now();
  if (now - order.updatedAt >= TOUCH_INTERVAL_MS) {
    await ctx.db.patch("work_orders", order._id, { updatedAt: now });
  }
}
