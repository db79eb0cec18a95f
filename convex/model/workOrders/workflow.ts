import { internal } from "../../_generated/api";
import type { Id } from "../../_generated/dataModel";
import type { MutationCtx } from "../../_generated/server";
import { launchConfig, temporalConfig } from "../platform/config";

/*
 * What an order's workflow on Temporal is asked, by a scheduled action of
 * convex/launcher.ts, after the transaction that decided it commits.
 */

/**
 * An order that became submitted is launched on Temporal, when this
 * deployment launches (TEMPORAL_HTTP_URL and TEMPORAL_TASK_QUEUE set);
 * otherwise another launcher owns it and nothing is scheduled.
 */
export async function scheduleLaunch(ctx: MutationCtx, workOrderId: Id<"work_orders">) {
  if (launchConfig() !== null) {
    await ctx.scheduler.runAfter(0, internal.launcher.launch, { workOrderId });
  }
}

/**
 * A canceled order's workflow is asked to cancel, when this deployment talks
 * to Temporal (TEMPORAL_HTTP_URL set): by a scheduled action, retried while
 * Temporal cannot take it (convex/launcher.ts, cancelRun). The order's
 * status is not touched: it is canceled already.
 */
export async function scheduleCancel(ctx: MutationCtx, workOrderId: Id<"work_orders">, reason: string) {
  if (temporalConfig() !== null) {
    await ctx.scheduler.runAfter(0, internal.launcher.cancelRun, { workOrderId, reason });
  }
}
