import type { Doc, Id } from "../../_generated/dataModel";
import type { QueryCtx } from "../../_generated/server";
import { LIMITS } from "../../../src/limits";
import { LINK_KINDS } from "../../../src/workOrders/links";
import { linksOfKinds, MAX_LINKS_PER_ORDER } from "./links";
import type { WorkOrderLink, WorkOrderTarget } from "./shapes";

/*
 * An order's parts read back through their indexes: its args and target
 * (what a launch and a retry need) and the lossless join `workOrders:get`
 * returns.
 */

/** The order's args sorted by name, and its target (or null): what a launch needs, and what the join shows. */
export async function argsAndTarget(ctx: QueryCtx, workOrderId: Id<"work_orders">) {
  const args = await argsOf(ctx, workOrderId);
  return { args: args.map(({ name, value }) => ({ name, value })), target: await targetOf(ctx, workOrderId) };
}

/** The order's arg rows, sorted by name: at most LIMITS.argsPerWorkOrder (checked when they are written). */
export async function argsOf(ctx: QueryCtx, workOrderId: Id<"work_orders">) {
  return await ctx.db
    .query("work_order_args")
    .withIndex("by_workOrderId_name", (q) => q.eq("workOrderId", workOrderId))
    .take(LIMITS.argsPerWorkOrder);
}

/** The order's target (or null), as the launch input carries it. */
export async function targetOf(ctx: QueryCtx, workOrderId: Id<"work_orders">): Promise<WorkOrderTarget | null> {
  const target = await ctx.db
    .query("work_order_targets")
    .withIndex("by_workOrderId", (q) => q.eq("workOrderId", workOrderId))
    .unique();
  return target === null ? null : { targetRepo: target.targetRepo, targetBranch: target.targetBranch };
}

// Commits last: an order's many commits never push its issues and pull requests out of the bound.
const KINDS_READ_FIRST_TO_LAST = [...LINK_KINDS.filter((kind) => kind !== "commit"), "commit" as const];

/**
 * The lossless join: the order's own fields, its args sorted by name, its
 * target (or null) and its links in the order they were added. Links are
 * read kind by kind, issues and pull requests first, MAX_LINKS_PER_ORDER in
 * all (the cap an order holds; only an order whose links predate the count
 * can hold more, and then its latest commits are the ones left out).
 */
export async function assembleWorkOrder(ctx: QueryCtx, order: Doc<"work_orders">) {
  const linkRows = await linksOfKinds(ctx, order._id, KINDS_READ_FIRST_TO_LAST, (read) => MAX_LINKS_PER_ORDER - read);
  return {
    ...order,
    ...(await argsAndTarget(ctx, order._id)),
    links: linkRows.map(({ kind, value }): WorkOrderLink => ({ kind, value })),
  };
}
