import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx } from "../../_generated/server";
import { canonicalBranch, canonicalRepo } from "../../../src/workOrders/repos";
import { valueOf } from "../platform/errors";
import { checkLaunchInputWith } from "./launchInput";
import { indexLiveTarget } from "./liveIndex";
import type { WorkOrderTarget } from "./shapes";
import { touchWorkOrder } from "./updatedAt";

/** The target in its stored form (canonical repository, branch without `refs/heads/`). */
export function checkTarget(target: WorkOrderTarget): WorkOrderTarget {
  return {
    targetRepo: valueOf(canonicalRepo(target.targetRepo)),
    targetBranch: valueOf(canonicalBranch(target.targetBranch)),
  };
}

/**
 * Sets the work order's one target; setting the target it already has writes
 * nothing. The launch input, which holds the target, stays within its bound.
 */
export async function upsertTarget(
  ctx: MutationCtx,
  order: Doc<"work_orders">,
  target: WorkOrderTarget,
): Promise<Id<"work_order_targets">> {
  const checked = checkTarget(target);
  const existing = await ctx.db
    .query("work_order_targets")
    .withIndex("by_workOrderId", (q) => q.eq("workOrderId", order._id))
    .unique();
  if (
    existing !== null &&
    existing.targetRepo === checked.targetRepo &&
    existing.targetBranch === checked.targetBranch
  ) {
    return existing._id;
  }
  await checkLaunchInputWith(ctx, order, { target: checked });
  let targetId: Id<"work_order_targets">;
  if (existing === null) {
    targetId = await ctx.db.insert("work_order_targets", { workOrderId: order._id, ...checked });
  } else {
    targetId = existing._id;
    await ctx.db.patch("work_order_targets", targetId, checked);
  }
  await indexLiveTarget(ctx, order, checked);
  await touchWorkOrder(ctx, order);
  return targetId;
}
