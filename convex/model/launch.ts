import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { launchConfig } from "./config";

/**
 * An order that became submitted is launched on Temporal, when this
 * deployment launches (TEMPORAL_HTTP_URL and TEMPORAL_TASK_QUEUE set);
 * otherwise another launcher owns it and nothing is scheduled.
 */
export async function scheduleLaunch(ctx: MutationCtx, workOrderId: Id<"work_orders">) {
  if (launchConfig() !== null) {
    await ctx.scheduler.runAfter(0, internal.reconcile.launch, { workOrderId });
  }
}
