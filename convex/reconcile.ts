import { literals } from "convex-helpers/validators";
import { v, type Infer, type Validator } from "convex/values";
import { internal } from "./_generated/api";
import type { Doc, Id } from "./_generated/dataModel";
import { internalAction, internalMutation, internalQuery, type MutationCtx } from "./_generated/server";
import { describeWorkflow, EXECUTION_STATUSES, type Described } from "../src/temporal/client";
import { reconciliationFor } from "../src/temporal/outcome";
import { ORDER_BYTES, STATUS_CHANGE_COST } from "./model/effects/budget";
import { batchFits, vBatchCursor, walkBatch, type BatchRange, type Walk } from "./model/platform/batches";
import { budget } from "./model/platform/budget";
import { launchConfig, staleAfterMs, staleFailAfterMs, temporalConfig } from "./model/platform/config";
import { transactionCost } from "./model/platform/cost";
import { liveRun } from "./model/platform/scheduling";
import { noticeOrdersFailed } from "./model/alerts/notice";
import { byReconciler, changeStatus } from "./model/workOrders/status";
import { launchEach } from "./launcher";

/*
 * Reconciliation with Temporal (docs/contract.md#5-reconciliation-and-temporal). A cron starts a
 * sweep; each page of stale orders, read through by_status_updatedAt, is one
 * run that schedules the next, so no transaction grows with the backlog, and
 * none reads more than 8 MiB whatever the orders' sizes (model/platform/batches.ts).
 * With Temporal, a page is an action that asks Temporal about each order and
 * mutations that apply the answers; without it, a page is one mutation that
 * fails orders stale past STALE_FAIL_AFTER_MS.
 *
 * A sweep runs two chains of pages, `stale` (accepted, then running orders)
 * and `launch` (submitted orders). Each chain's row in reconciler_chains
 * names its latest scheduled page; a sweep starts a chain only when that
 * page is no longer pending or running, so a slow Temporal never has two
 * chains asking it the same questions.
 */

const PAGE = 100;
const TEMPORAL_PAGE = 50;
const TEMPORAL_CONCURRENCY = 10;
// A submitted order not accepted this long after it was submitted is launched again.
const RELAUNCH_AFTER_MS = 5 * 60 * 1000;

const vPhase = v.union(v.literal("accepted"), v.literal("running"), v.literal("submitted"));
type Phase = Infer<typeof vPhase>;
// `cursor`: where the chain's previous page stopped (the index key of its last order), or null.
const vPage = { phase: vPhase, cursor: v.union(vBatchCursor, v.null()), cutoff: v.number() };
type Page = Infer<typeof vPageObject>;
const vPageObject = v.object(vPage);
type Chain = Doc<"reconciler_chains">["chain"];
type PageFunction = typeof internal.reconcile.checkPage | typeof internal.reconcile.failStalePage;

function chainOf(phase: Phase): Chain {
  return phase === "submitted" ? "launch" : "stale";
}

/** The chain's latest page, when it is still waiting to run or running. */
async function runningPage(ctx: MutationCtx, chain: Chain) {
  const row = await ctx.db
    .query("reconciler_chains")
    .withIndex("by_chain", (q) => q.eq("chain", chain))
    .unique();
  return row === null ? null : await liveRun(ctx, row.page);
}

/** Schedules a chain's next page and makes it the one a sweep waits for. */
async function schedulePage(ctx: MutationCtx, next: PageFunction, page: Page) {
  const chain = chainOf(page.phase);
  const pageId = await ctx.scheduler.runAfter(0, next, page);
  const row = await ctx.db
    .query("reconciler_chains")
    .withIndex("by_chain", (q) => q.eq("chain", chain))
    .unique();
  if (row === null) {
    await ctx.db.insert("reconciler_chains", { chain, page: pageId });
  } else {
    await ctx.db.patch("reconciler_chains", row._id, { page: pageId });
  }
}

/** Starts a chain at its first page, unless its previous sweep is still under way. */
async function startChain(ctx: MutationCtx, next: PageFunction, page: Page) {
  const running = await runningPage(ctx, chainOf(page.phase));
  if (running !== null) {
    console.log(
      `reconcile: the previous ${chainOf(page.phase)} sweep is still ${running.state.kind === "pending" ? "waiting to run" : "running"}; not starting another`,
    );
    return;
  }
  await schedulePage(ctx, next, page);
}

/** Cron: starts a sweep over stale orders (and, when launching, submitted ones not yet accepted). */
export const sweep = internalMutation({
  args: {},
  returns: v.null(),
  handler: async (ctx) => {
    const now = Date.now();
    if (temporalConfig() === null) {
      await startChain(ctx, internal.reconcile.failStalePage, {
        phase: "accepted",
        cursor: null,
        // Stale (past STALE_AFTER_MS) and untouched past STALE_FAIL_AFTER_MS.
        cutoff: now - Math.max(staleAfterMs(), staleFailAfterMs()),
      });
    } else {
      await startChain(ctx, internal.reconcile.checkPage, {
        phase: "accepted",
        cursor: null,
        cutoff: now - staleAfterMs(),
      });
    }
    if (launchConfig() !== null) {
      await startChain(ctx, internal.reconcile.checkPage, {
        phase: "submitted",
        cursor: null,
        cutoff: now - RELAUNCH_AFTER_MS,
      });
    }
    return null;
  },
});

/** The orders of a page: in its status, untouched since `cutoff`, oldest first, after where the chain stood. */
function staleRange({ phase, cursor, cutoff }: Page): BatchRange<"work_orders"> {
  return { table: "work_orders", index: "by_status_updatedAt", from: [phase], to: [phase, cutoff], after: cursor };
}

/** The ids of a page of stale orders, as many as one transaction reads within its budget. */
export const stalePage = internalQuery({
  args: { ...vPage, numItems: v.number() },
  returns: v.object({ workOrderIds: v.array(v.id("work_orders")), finished: v.boolean(), after: v.union(vBatchCursor, v.null()) }),
  handler: async (ctx, { numItems, ...page }) => {
    const workOrderIds: Id<"work_orders">[] = [];
    const walk = await walkBatch(
      ctx,
      staleRange(page),
      { maxRows: numItems, rowCost: budget({ bytesRead: ORDER_BYTES, documentsRead: 1, databaseQueries: 1 }), firstAlways: true },
      async (order) => void workOrderIds.push(order._id),
    );
    return { workOrderIds, finished: walk.finished, after: walk.after };
  },
});

const vWalked = { finished: v.boolean(), after: v.union(vBatchCursor, v.null()) };

/** The page after this one, or the next phase of the stale chain: accepted, then running. */
async function continueChain(ctx: MutationCtx, next: PageFunction, page: Page, walked: Pick<Walk, "finished" | "after">) {
  if (!walked.finished) {
    await schedulePage(ctx, next, { ...page, cursor: walked.after });
  } else if (page.phase === "accepted") {
    await schedulePage(ctx, next, { phase: "running", cursor: null, cutoff: page.cutoff });
  }
}

/** From a page that is an action: carries its chain on, in a transaction of its own. */
export const continueCheck = internalMutation({
  args: { page: vPageObject, ...vWalked },
  returns: v.null(),
  handler: async (ctx, { page, ...walked }) => {
    await continueChain(ctx, internal.reconcile.checkPage, page, walked);
    return null;
  },
});

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
    const failed: Id<"work_orders">[] = [];
    const walk = await walkBatch(ctx, staleRange(page), { maxRows: PAGE, rowCost: STATUS_CHANGE_COST, firstAlways: true }, async (order) => {
      if ((await changeStatus(ctx, order, byReconciler("failed", "stale"))).kind === "changed") {
        failed.push(order._id);
      }
    });
    await noticeOrdersFailed(ctx, failed);
    await logPage(ctx, "failed", page, walk.done);
    await continueChain(ctx, internal.reconcile.failStalePage, page, walk);
    return null;
  },
});

// What the client's describeWorkflow answers, passed from the page's action to its mutation.
const vDescribed = v.union(
  v.object({ kind: v.literal("found"), status: literals(...EXECUTION_STATUSES) }),
  v.object({ kind: v.literal("notFound") }),
  v.object({ kind: v.literal("unavailable"), reason: v.string() }),
) satisfies Validator<Described, "required", string>;

/**
 * Applies what Temporal said about each order, to the order as it is now,
 * in order, as many as fit the transaction's batch budget (at least one):
 * returns how many it took, the caller passes the rest again.
 */
export const applyDescriptions = internalMutation({
  args: {
    phase: vPhase,
    descriptions: v.array(v.object({ workOrderId: v.id("work_orders"), described: vDescribed })),
  },
  returns: v.number(),
  handler: async (ctx, { phase, descriptions }) => {
    let applied = 0;
    let taken = 0;
    const failed: Id<"work_orders">[] = [];
    for (const { workOrderId, described } of descriptions) {
      if (taken > 0 && !(await batchFits(ctx, STATUS_CHANGE_COST))) {
        break;
      }
      taken += 1;
      // Re-read: a webhook may have moved the order since the page was read.
      const order = await ctx.db.get("work_orders", workOrderId);
      if (order === null) {
        continue;
      }
      const outcome = reconciliationFor(order.status, described);
      if (outcome.kind === "move") {
        const result = await changeStatus(ctx, order, byReconciler(outcome.to, outcome.reason));
        applied += result.kind === "changed" ? 1 : 0;
        if (result.kind === "changed" && outcome.to === "failed") {
          failed.push(order._id);
        }
      } else if (outcome.kind === "refresh" && order.status === "running") {
        await ctx.db.patch("work_orders", order._id, { updatedAt: Date.now() });
        applied += 1;
      }
    }
    await noticeOrdersFailed(ctx, failed);
    await logPage(ctx, "reconciled", { phase }, applied);
    return taken;
  },
});

/** Runs `work` over `items`, at most `limit` at a time (describing never throws: Temporal's troubles are answers). */
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
    const carryOn = { page, finished: result.finished, after: result.after };
    if (page.phase === "submitted") {
      await launchEach(ctx, result.workOrderIds, TEMPORAL_CONCURRENCY);
      await ctx.runMutation(internal.reconcile.continueCheck, carryOn);
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
    for (let rest = descriptions; rest.length > 0; ) {
      rest = rest.slice(await ctx.runMutation(internal.reconcile.applyDescriptions, { phase: page.phase, descriptions: rest }));
    }
    await ctx.runMutation(internal.reconcile.continueCheck, carryOn);
    return null;
  },
});
