import { convexToJson, v, type Infer } from "convex/values";
import { internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import {
  internalAction,
  internalMutation,
  internalQuery,
  type ActionCtx,
  type MutationCtx,
} from "./_generated/server";
import { describeWorkflow, EXECUTION_STATUSES, startWorkflow } from "../src/temporal/client";
import { reconciliationFor } from "../src/temporal/outcome";
import { launchConfig, staleAfterMs, staleFailAfterMs, temporalConfig } from "./model/config";
import { transactionCost } from "./model/cost";
import { changeStatus, type StatusChange } from "./model/status";
import type { WorkOrderStatus } from "../src/workOrders/status";
import { argsAndTarget } from "./model/workOrders";

/*
 * Reconciliation with Temporal (docs/contract.md section 5). A cron starts a
 * sweep; each page of stale orders, read through by_status_updatedAt, is one
 * run that schedules the next, so no transaction grows with the backlog.
 * With Temporal, a page is an action that asks Temporal about each order and
 * one mutation that applies the answers; without it, a page is one mutation
 * that fails orders stale past STALE_FAIL_AFTER_MS.
 */

const PAGE = 100;
const TEMPORAL_PAGE = 50;
const TEMPORAL_CONCURRENCY = 10;
// A submitted order not accepted this long after it was submitted is launched again.
const RELAUNCH_AFTER_MS = 5 * 60 * 1000;

/** A status change the reconciler (or the launch) asks for, as the history records it. */
function byReconciler(to: WorkOrderStatus, reason: string): StatusChange {
  return { to, source: "reconcile", actorKind: "service", actor: "reconciler", reason };
}

const vPhase = v.union(v.literal("accepted"), v.literal("running"), v.literal("submitted"));
type Phase = Infer<typeof vPhase>;
const vPage = { phase: vPhase, cursor: v.union(v.string(), v.null()), cutoff: v.number() };

/** Cron: starts a sweep over stale orders (and, when launching, submitted ones not yet accepted). */
export const sweep = internalMutation({
  args: {},
  returns: v.null(),
  handler: async (ctx) => {
    const now = Date.now();
    if (temporalConfig() === null) {
      await ctx.scheduler.runAfter(0, internal.reconcile.failStalePage, {
        phase: "accepted",
        cursor: null,
        // Stale (past STALE_AFTER_MS) and untouched past STALE_FAIL_AFTER_MS.
        cutoff: now - Math.max(staleAfterMs(), staleFailAfterMs()),
      });
    } else {
      await ctx.scheduler.runAfter(0, internal.reconcile.checkPage, {
        phase: "accepted",
        cursor: null,
        cutoff: now - staleAfterMs(),
      });
    }
    if (launchConfig() !== null) {
      await ctx.scheduler.runAfter(0, internal.reconcile.checkPage, {
        phase: "submitted",
        cursor: null,
        cutoff: now - RELAUNCH_AFTER_MS,
      });
    }
    return null;
  },
});

/** Orders in a status untouched since `cutoff`, oldest first, a page at a time. */
export const stalePage = internalQuery({
  args: { ...vPage, numItems: v.number() },
  returns: v.object({
    workOrderIds: v.array(v.id("work_orders")),
    isDone: v.boolean(),
    continueCursor: v.string(),
  }),
  handler: async (ctx, { phase, cursor, cutoff, numItems }) => {
    const page = await ctx.db
      .query("work_orders")
      .withIndex("by_status_updatedAt", (q) => q.eq("status", phase).lt("updatedAt", cutoff))
      .paginate({ cursor, numItems });
    return {
      workOrderIds: page.page.map((order) => order._id),
      isDone: page.isDone,
      continueCursor: page.continueCursor,
    };
  },
});

/** The page after this one, or the next phase of the sweep: accepted, then running. */
async function continueSweep(
  ctx: { scheduler: MutationCtx["scheduler"] },
  next: typeof internal.reconcile.checkPage | typeof internal.reconcile.failStalePage,
  page: { phase: Phase; cutoff: number },
  result: { isDone: boolean; continueCursor: string },
) {
  if (!result.isDone) {
    await ctx.scheduler.runAfter(0, next, { ...page, cursor: result.continueCursor });
  } else if (page.phase === "accepted") {
    await ctx.scheduler.runAfter(0, next, { phase: "running", cursor: null, cutoff: page.cutoff });
  }
}

/** One line per page, with what its transaction cost: how operators (and the benchmark) see a sweep. */
async function logPage(ctx: MutationCtx, what: string, page: { phase: Phase }, count: number) {
  const cost = await transactionCost(ctx);
  console.log(`reconcile: ${what} ${count} ${page.phase} order(s) in one transaction ${JSON.stringify(cost)}`);
}

/** Without Temporal: fails one page of orders stale past STALE_FAIL_AFTER_MS, with reason `stale`. */
export const failStalePage = internalMutation({
  args: vPage,
  returns: v.null(),
  handler: async (ctx, page) => {
    const stale = await ctx.db
      .query("work_orders")
      .withIndex("by_status_updatedAt", (q) => q.eq("status", page.phase).lt("updatedAt", page.cutoff))
      .paginate({ cursor: page.cursor, numItems: PAGE });
    for (const order of stale.page) {
      await changeStatus(ctx, order, byReconciler("failed", "stale"));
    }
    await logPage(ctx, "failed", page, stale.page.length);
    await continueSweep(ctx, internal.reconcile.failStalePage, page, stale);
    return null;
  },
});

const vDescribed = v.union(
  v.object({ kind: v.literal("found"), status: v.union(...EXECUTION_STATUSES.map((s) => v.literal(s))) }),
  v.object({ kind: v.literal("notFound") }),
  v.object({ kind: v.literal("unavailable"), reason: v.string() }),
);

/** Applies what Temporal said about each order, to the order as it is now. */
export const applyDescriptions = internalMutation({
  args: {
    phase: vPhase,
    descriptions: v.array(v.object({ workOrderId: v.id("work_orders"), described: vDescribed })),
  },
  returns: v.null(),
  handler: async (ctx, { phase, descriptions }) => {
    let applied = 0;
    for (const { workOrderId, described } of descriptions) {
      // Re-read: a webhook may have moved the order since the page was read.
      const order = await ctx.db.get("work_orders", workOrderId);
      if (order === null) {
        continue;
      }
      const outcome = reconciliationFor(order.status, described);
      if (outcome.kind === "move") {
        const result = await changeStatus(ctx, order, byReconciler(outcome.to, outcome.reason));
        applied += result.kind === "changed" ? 1 : 0;
      } else if (outcome.kind === "refresh" && order.status === "running") {
        await ctx.db.patch("work_orders", order._id, { updatedAt: Date.now() });
        applied += 1;
      }
    }
    await logPage(ctx, "reconciled", { phase }, applied);
    return null;
  },
});

/** Runs `work` over `items`, at most `limit` at a time. */
async function inBatches<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += limit) {
    results.push(...(await Promise.all(items.slice(start, start + limit).map(work))));
  }
  return results;
}

/**
 * One page of the sweep with Temporal: accepted and running orders are
 * described and reconciled; submitted ones are launched again.
 */
export const checkPage = internalAction({
  args: vPage,
  returns: v.null(),
  handler: async (ctx, page) => {
    const temporal = temporalConfig();
    if (temporal === null) {
      return null;
    }
    const result = await ctx.runQuery(internal.reconcile.stalePage, { ...page, numItems: TEMPORAL_PAGE });
    if (page.phase === "submitted") {
      await inBatches(result.workOrderIds, TEMPORAL_CONCURRENCY, (workOrderId) => launchWorkOrder(ctx, workOrderId));
      if (!result.isDone) {
        await ctx.scheduler.runAfter(0, internal.reconcile.checkPage, { ...page, cursor: result.continueCursor });
      }
      return null;
    }
    const descriptions = await inBatches(result.workOrderIds, TEMPORAL_CONCURRENCY, async (workOrderId) => ({
      workOrderId,
      described: await describeWorkflow(temporal, workOrderId),
    }));
    for (const { workOrderId, described } of descriptions) {
      if (described.kind === "unavailable") {
        console.warn(`reconcile: work order ${workOrderId} left as it is: ${described.reason}`);
      }
    }
    await ctx.runMutation(internal.reconcile.applyDescriptions, { phase: page.phase, descriptions });
    await continueSweep(ctx, internal.reconcile.checkPage, page, result);
    return null;
  },
});

/** The launch request of a submitted order, or null when it is not submitted (any more). */
export const launchRequest = internalQuery({
  args: { workOrderId: v.id("work_orders") },
  returns: v.union(
    v.object({ workflowType: v.string(), input: v.any() }),
    v.null(),
  ),
  handler: async (ctx, { workOrderId }) => {
    const order = await ctx.db.get("work_orders", workOrderId);
    if (order === null || order.status !== "submitted") {
      return null;
    }
    const { args, target } = await argsAndTarget(ctx, order);
    return {
      workflowType: order.workflowType,
      // Arg values in Convex's JSON form, so that int64 and bytes survive JSON.
      input: { workOrderId, prompt: order.prompt, args: args.map(({ name, value }) => ({ name, value: convexToJson(value) })), target },
    };
  },
});

/** Starts the workflow of a submitted order; started or already started moves it to accepted. */
async function launchWorkOrder(ctx: ActionCtx, workOrderId: Id<"work_orders">) {
  const config = launchConfig();
  if (config === null) {
    return;
  }
  const request = await ctx.runQuery(internal.reconcile.launchRequest, { workOrderId });
  if (request === null) {
    return;
  }
  const started = await startWorkflow(config.temporal, {
    workflowId: workOrderId,
    workflowType: request.workflowType,
    taskQueue: config.taskQueue,
    input: request.input,
    requestId: `launch-${workOrderId}`,
  });
  if (started.kind === "failed") {
    console.warn(`launch: work order ${workOrderId} stays submitted, to be launched again: ${started.reason}`);
    return;
  }
  await ctx.runMutation(internal.reconcile.markLaunched, {
    workOrderId,
    reason: started.kind === "started" ? `workflow started (run ${started.runId})` : "workflow already started",
  });
}

export const launch = internalAction({
  args: { workOrderId: v.id("work_orders") },
  returns: v.null(),
  handler: async (ctx, { workOrderId }) => {
    await launchWorkOrder(ctx, workOrderId);
    return null;
  },
});

export const markLaunched = internalMutation({
  args: { workOrderId: v.id("work_orders"), reason: v.string() },
  returns: v.null(),
  handler: async (ctx, { workOrderId, reason }) => {
    const order = await ctx.db.get("work_orders", workOrderId);
    if (order !== null) {
      await changeStatus(ctx, order, byReconciler("accepted", reason));
    }
    return null;
  },
});
