import type { Id } from "../../_generated/dataModel";
import type { QueryCtx } from "../../_generated/server";

/*
 * Retries of failed orders (work_order_retries): a failed order is retried
 * at most once, as a new order; its card and the answers about it say what
 * it was retried as.
 */

/** The order a failed one was retried as, if it was. */
export async function retryOf(ctx: QueryCtx, workOrderId: Id<"work_orders">) {
  return await ctx.db
    .query("work_order_retries")
    .withIndex("by_workOrderId", (q) => q.eq("workOrderId", workOrderId))
    .unique();
}
