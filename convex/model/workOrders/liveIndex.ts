import type { Infer } from "convex/values";
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../_generated/server";
import type { LinkKind } from "../../../src/workOrders/links";
import { isTerminal } from "../../../src/workOrders/status";
import { linksOfKinds } from "./links";
import type { WorkOrderLink, WorkOrderTarget } from "./shapes";
import type { vSelectableLinkKind } from "../platform/validators";

/*
 * The derived indexes of live work orders (work_order_live_targets,
 * work_order_live_links, work_order_live_requesters; convex/schema.ts): what
 * rules 1 and 3 read to find the live orders of a branch or an issue / pull
 * request, newest first, without reading a finished one, and what counts the
 * live orders a user holds (JANGAR_MAX_LIVE_ORDERS). A row exists exactly
 * while its order is live, and says what work_order_targets /
 * work_order_links / the order's requestedBy say; the functions here are the
 * only writers, called where an order's target, links or liveness change.
 */

/** How many of a live order's issues and pull requests rule 3 finds it by, ahead of finished orders. */
export const MAX_LIVE_LINKS_PER_ORDER = 20;

type SelectableLinkKind = Infer<typeof vSelectableLinkKind>;
type SelectableLink = { kind: SelectableLinkKind; value: string };

function isSelectable(link: WorkOrderLink): link is SelectableLink {
  return link.kind !== "commit";
}

/** The order's live target row, if any. */
function liveTargetOf(ctx: QueryCtx, workOrderId: Id<"work_orders">) {
  return ctx.db
    .query("work_order_live_targets")
    .withIndex("by_workOrderId", (q) => q.eq("workOrderId", workOrderId))
    .unique();
}

/** The order's live link rows (at most MAX_LIVE_LINKS_PER_ORDER). */
function liveLinksOf(ctx: QueryCtx, workOrderId: Id<"work_orders">) {
  return ctx.db
    .query("work_order_live_links")
    .withIndex("by_workOrderId", (q) => q.eq("workOrderId", workOrderId))
    .take(MAX_LIVE_LINKS_PER_ORDER);
}

/** The order's live requester row, if any. */
function liveRequesterOf(ctx: QueryCtx, workOrderId: Id<"work_orders">) {
  return ctx.db
    .query("work_order_live_requesters")
    .withIndex("by_workOrderId", (q) => q.eq("workOrderId", workOrderId))
    .unique();
}

/** The fields of an order its live rows depend on. */
type IndexedOrder = Pick<Doc<"work_orders">, "_id" | "status" | "createdAt">;

/** Records a new order as one of its requester's live orders (createWorkOrder); a finished order has no row. */
export async function indexLiveRequester(ctx: MutationCtx, order: Pick<Doc<"work_orders">, "_id" | "status" | "requestedBy">) {
  if (!isTerminal(order.status)) {
    await ctx.db.insert("work_order_live_requesters", { workOrderId: order._id, requestedBy: order.requestedBy });
  }
}

/** How many live orders `requestedBy` holds, counted up to `atMost`: at most that many index rows are read, and no order. */
export async function liveOrderCount(ctx: QueryCtx, requestedBy: string, atMost: number): Promise<number> {
  const rows = await ctx.db
    .query("work_order_live_requesters")
    .withIndex("by_requestedBy", (q) => q.eq("requestedBy", requestedBy))
    .take(atMost);
  return rows.length;
}

/** Records the target a live order now has (createWorkOrder, upsertTarget); a finished order has no row. */
export async function indexLiveTarget(ctx: MutationCtx, order: IndexedOrder, target: WorkOrderTarget) {
  if (isTerminal(order.status)) {
    return;
  }
  const existing = await liveTargetOf(ctx, order._id);
  if (existing === null) {
    await ctx.db.insert("work_order_live_targets", { workOrderId: order._id, ...target, orderCreatedAt: order.createdAt });
  } else if (existing.targetRepo !== target.targetRepo || existing.targetBranch !== target.targetBranch) {
    await ctx.db.patch("work_order_live_targets", existing._id, target);
  }
}

/** Records links just added to a live order: its issues and pull requests, up to MAX_LIVE_LINKS_PER_ORDER. */
export async function indexLiveLinks(ctx: MutationCtx, order: IndexedOrder, added: WorkOrderLink[]) {
  const selectable = added.filter(isSelectable);
  if (selectable.length === 0 || isTerminal(order.status)) {
    return;
  }
  const room = MAX_LIVE_LINKS_PER_ORDER - (await liveLinksOf(ctx, order._id)).length;
  for (const link of selectable.slice(0, Math.max(0, room))) {
    await ctx.db.insert("work_order_live_links", { workOrderId: order._id, ...link, orderCreatedAt: order.createdAt });
  }
}

/** Forgets an order that has become terminal (changeStatus): at most 2 + MAX_LIVE_LINKS_PER_ORDER rows. */
export async function dropFromLiveIndex(ctx: MutationCtx, workOrderId: Id<"work_orders">) {
  const target = await liveTargetOf(ctx, workOrderId);
  if (target !== null) {
    await ctx.db.delete("work_order_live_targets", target._id);
  }
  const requester = await liveRequesterOf(ctx, workOrderId);
  if (requester !== null) {
    await ctx.db.delete("work_order_live_requesters", requester._id);
  }
  for (const link of await liveLinksOf(ctx, workOrderId)) {
    await ctx.db.delete("work_order_live_links", link._id);
  }
}

/**
 * Makes the order's rows say what its status, requester, target and links
 * say, writing only what differs (migrations: orders written before these
 * indexes existed). Reads the order's target and its first
 * MAX_LIVE_LINKS_PER_ORDER issues and pull requests of each kind.
 */
export async function rebuildLiveIndex(ctx: MutationCtx, order: Doc<"work_orders">) {
  const live = !isTerminal(order.status);
  const requester = await liveRequesterOf(ctx, order._id);
  if (requester !== null && (!live || requester.requestedBy !== order.requestedBy)) {
    await ctx.db.delete("work_order_live_requesters", requester._id);
  }
  if (live && (requester === null || requester.requestedBy !== order.requestedBy)) {
    await ctx.db.insert("work_order_live_requesters", { workOrderId: order._id, requestedBy: order.requestedBy });
  }

  const target = live
    ? await ctx.db
        .query("work_order_targets")
        .withIndex("by_workOrderId", (q) => q.eq("workOrderId", order._id))
        .unique()
    : null;
  const existingTarget = await liveTargetOf(ctx, order._id);
  const targetRight =
    target === null
      ? existingTarget === null
      : existingTarget !== null &&
        existingTarget.targetRepo === target.targetRepo &&
        existingTarget.targetBranch === target.targetBranch &&
        existingTarget.orderCreatedAt === order.createdAt;
  if (!targetRight) {
    if (existingTarget !== null) {
      await ctx.db.delete("work_order_live_targets", existingTarget._id);
    }
    if (target !== null) {
      await ctx.db.insert("work_order_live_targets", {
        workOrderId: order._id,
        targetRepo: target.targetRepo,
        targetBranch: target.targetBranch,
        orderCreatedAt: order.createdAt,
      });
    }
  }

  const kinds = live ? (["github_issue", "pr"] as const satisfies LinkKind[]) : [];
  const linkRows = await linksOfKinds(ctx, order._id, kinds, () => MAX_LIVE_LINKS_PER_ORDER);
  const wanted = new Set(linkRows.slice(0, MAX_LIVE_LINKS_PER_ORDER).map((link) => `${link.kind} ${link.value}`));
  const kept = new Set<string>();
  for (const row of await liveLinksOf(ctx, order._id)) {
    const key = `${row.kind} ${row.value}`;
    if (wanted.has(key) && row.orderCreatedAt === order.createdAt) {
      kept.add(key);
    } else {
      await ctx.db.delete("work_order_live_links", row._id);
    }
  }
  for (const link of linkRows.slice(0, MAX_LIVE_LINKS_PER_ORDER)) {
    if (!kept.has(`${link.kind} ${link.value}`) && isSelectable(link)) {
      await ctx.db.insert("work_order_live_links", { workOrderId: order._id, kind: link.kind, value: link.value, orderCreatedAt: order.createdAt });
    }
  }
}
