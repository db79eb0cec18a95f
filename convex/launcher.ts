import { v } from "convex/values";
import { internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { internalAction, internalMutation, internalQuery, type ActionCtx } from "./_generated/server";
import { cancelWorkflow, startWorkflow } from "../src/temporal/client";
import { LIMITS } from "../src/limits";
import { nextAttempt, retryPolicy } from "../src/retry";
import { truncate } from "../src/text";
import { launchConfig, temporalConfig } from "./model/platform/config";
import { checkWorkflowType, launchInputOf } from "./model/workOrders/launchInput";
import { scheduleCancel } from "./model/workOrders/workflow";
import { byReconciler, cancelReason, changeStatus } from "./model/workOrders/status";

/*
 * Launching submitted orders on Temporal (docs/contract.md#5-reconciliation-and-temporal): at
 * once when an order becomes submitted (`launch`), and again from the
 * reconciler's `launch` chain for orders still submitted later
 * (`launchEach`). Each order's launch stands alone: one that throws is
 * logged and the others go on. And stopping them: a canceled order's
 * workflow is asked to cancel (`cancelRun`).
 */

/**
 * What to start for a submitted order, or null when it is not submitted (any
 * more). The input is JSON text: arg values are in Convex's JSON form, whose
 * `$integer`/`$bytes`/`$float` keys a function may not return as a value.
 */
export const launchRequest = internalQuery({
  args: { workOrderId: v.id("work_orders") },
  returns: v.union(v.object({ workflowType: v.string(), inputJson: v.string() }), v.null()),
  handler: async (ctx, { workOrderId }) => {
    const order = await ctx.db.get("work_orders", workOrderId);
    if (order === null || order.status !== "submitted") {
      return null;
    }
    return { workflowType: order.workflowType, inputJson: JSON.stringify(await launchInputOf(ctx, order)) };
  },
});

/**
 * Starts the workflow of a submitted order; started or already started moves
 * it to accepted. A request Temporal refuses, or a workflow type that
 * JANGAR_WORKFLOW_TYPES no longer lists, fails it: neither can succeed by
 * trying again. Temporal being unable to take it now leaves it submitted,
 * with a log line, for the reconciler to launch again.
 */
async function launchWorkOrder(ctx: ActionCtx, workOrderId: Id<"work_orders">) {
  const config = launchConfig();
  if (config === null) {
    return;
  }
  const request = await ctx.runQuery(internal.launcher.launchRequest, { workOrderId });
  if (request === null) {
    return;
  }
  const listed = checkWorkflowType(request.workflowType);
  if (!listed.ok) {
    console.warn(`launch: work order ${workOrderId} fails, not launched: ${listed.message}`);
    await ctx.runMutation(internal.launcher.markLaunched, { workOrderId, to: "failed", reason: listed.message });
    return;
  }
  const started = await startWorkflow(config.temporal, {
    workflowId: workOrderId,
    workflowType: request.workflowType,
    taskQueue: config.taskQueue,
    inputJson: request.inputJson,
    requestId: `launch-${workOrderId}`,
  });
  switch (started.kind) {
    case "failed":
      console.warn(`launch: work order ${workOrderId} stays submitted, to be launched again: ${started.reason}`);
      return;
    case "refused":
      console.warn(`launch: work order ${workOrderId} fails: ${started.reason}`);
      await ctx.runMutation(internal.launcher.markLaunched, { workOrderId, to: "failed", reason: started.reason });
      return;
    case "started":
    case "alreadyStarted":
      await ctx.runMutation(internal.launcher.markLaunched, {
        workOrderId,
        to: "accepted",
        reason: started.kind === "started" ? `workflow started (run ${started.runId})` : "workflow already started",
      });
      return;
  }
  started satisfies never;
}

/**
 * Launches each order, `concurrency` at a time. An order whose launch throws
 * is logged and left submitted; it never stops the launches of the others.
 */
export async function launchEach(ctx: ActionCtx, workOrderIds: Id<"work_orders">[], concurrency: number) {
  for (let start = 0; start < workOrderIds.length; start += concurrency) {
    const batch = workOrderIds.slice(start, start + concurrency);
    const outcomes = await Promise.allSettled(batch.map((workOrderId) => launchWorkOrder(ctx, workOrderId)));
    outcomes.forEach((outcome, i) => {
      if (outcome.status === "rejected") {
        const error = outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason);
        console.error(`launch: work order ${batch[i]} stays submitted, its launch threw: ${truncate(error, 500)}`);
      }
    });
  }
}

/** Scheduled when an order becomes submitted. */
export const launch = internalAction({
  args: { workOrderId: v.id("work_orders") },
  returns: v.null(),
  handler: async (ctx, { workOrderId }) => {
    await launchEach(ctx, [workOrderId], 1);
    return null;
  },
});

/**
 * Records what the launch of a submitted order came to; an order that moved
 * on meanwhile keeps its status. One canceled while its workflow was being
 * started has the workflow just started asked to cancel: the request made
 * when it was canceled may have reached Temporal before the start.
 */
export const markLaunched = internalMutation({
  args: { workOrderId: v.id("work_orders"), to: v.union(v.literal("accepted"), v.literal("failed")), reason: v.string() },
  returns: v.null(),
  handler: async (ctx, { workOrderId, to, reason }) => {
    const order = await ctx.db.get("work_orders", workOrderId);
    if (order !== null && order.status === "submitted") {
      await changeStatus(ctx, order, byReconciler(to, truncate(reason, LIMITS.reasonChars)));
    }
    if (order !== null && order.status === "canceled" && to === "accepted") {
      // Canceled is final: the order's last change is the one that canceled it.
      const last = await ctx.db
        .query("work_order_status_changes")
        .withIndex("by_workOrderId_changedAt", (q) => q.eq("workOrderId", workOrderId))
        .order("desc")
        .first();
      await scheduleCancel(ctx, workOrderId, last === null ? "Jangar work order canceled" : cancelReason(last));
    }
    return null;
  },
});

// After 30 s, 2.5 min, 12.5 min, about an hour and five (each less up to a quarter at random); after the sixth attempt, given up with an error log.
const CANCEL_RETRY = retryPolicy({ initialMs: 30_000, factor: 5, maxDelayMs: 6 * 60 * 60_000, maxAttempts: 6 });

/**
 * Asks Temporal to cancel a canceled order's workflow. A workflow Temporal
 * does not know or whose run has closed has nothing to cancel; Temporal
 * unable to take the request now (unreachable, slow, 401, 403, an unknown
 * namespace, 429, 5xx) is asked again with backoff, over about six hours.
 * The order's status never changes here. Operators can ask again by hand:
 * `npx convex run launcher:cancelRun '{"workOrderId": "...", "reason": "..."}'`.
 */
export const cancelRun = internalAction({
  args: { workOrderId: v.id("work_orders"), reason: v.string(), attempt: v.optional(v.number()) },
  returns: v.null(),
  handler: async (ctx, { workOrderId, reason, attempt = 1 }) => {
    const config = temporalConfig();
    if (config === null) {
      console.warn(`cancel: work order ${workOrderId}: TEMPORAL_HTTP_URL is not set; its workflow is not asked to cancel.`);
      return null;
    }
    const asked = await cancelWorkflow(config, { workflowId: workOrderId, reason, requestId: `cancel-${workOrderId}` });
    switch (asked.kind) {
      case "requested":
        console.log(`cancel: work order ${workOrderId}: its workflow is asked to cancel.`);
        return null;
      case "gone":
        console.log(`cancel: work order ${workOrderId}: no run to cancel (${asked.reason}).`);
        return null;
      case "refused":
        console.error(`cancel: work order ${workOrderId}: ${asked.reason}`);
        return null;
      case "failed": {
        const next = nextAttempt(CANCEL_RETRY, { attemptsMade: attempt, now: Date.now(), random: Math.random() });
        if ("giveUp" in next) {
          console.error(`cancel: work order ${workOrderId}: ${next.giveUp}, its workflow may still run: ${asked.reason}`);
          return null;
        }
        console.warn(`cancel: work order ${workOrderId}: asked again in ${Math.round(next.retryInMs / 1000)} s: ${asked.reason}`);
        await ctx.scheduler.runAfter(next.retryInMs, internal.launcher.cancelRun, { workOrderId, reason, attempt: attempt + 1 });
        return null;
      }
      default:
        asked satisfies never;
        return null;
    }
  },
});
