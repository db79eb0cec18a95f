import type { Doc } from "../../_generated/dataModel";
import type { MutationCtx } from "../../_generated/server";
import { LIMITS } from "../../../src/limits";
import { checkOptionalText, truncate } from "../../../src/text";
import {
  isTerminal,
  judgeTransition,
  type StatusActor,
  type WorkOrderStatus,
} from "../../../src/workOrders/status";
import { valueOf } from "../platform/errors";
import { scheduleCancel, scheduleLaunch } from "./workflow";
import { dropFromLiveIndex } from "./liveIndex";
import { recordEvent } from "../events/record";
import { orderChanged } from "./shown";

/**
 * A change as the history records it (`actor`: who asked, `user:alice`,
 * `github:<delivery>`, ...; `delivery`: the delivery a person asked through,
 * by which a replay of it finds this change) and who may make it: a service,
 * webhooks and the reconciler move any status; a user only submits or cancels.
 */
export type StatusChange = Pick<Doc<"work_order_status_changes">, "to" | "source" | "actor" | "delivery" | "reason"> & {
  actorKind: StatusActor;
};

export type StatusOutcome =
  | { kind: "changed" | "unchanged"; status: WorkOrderStatus }
  | { kind: "refused"; status: WorkOrderStatus; message: string; reservedForServices: boolean };

/**
 * The one place a work order's status moves. Every caller (public mutation,
 * webhook, reconciler) passes the order as read in its own transaction, so a
 * race between two callers is decided here, on the freshest status: nothing
 * moves backward. What follows a change is statusEntered's.
 */
export async function changeStatus(
  ctx: MutationCtx,
  order: Doc<"work_orders">,
  change: StatusChange,
): Promise<StatusOutcome> {
  const reason = valueOf(checkOptionalText("reason", change.reason, LIMITS.reasonChars));
  const verdict = judgeTransition(order.status, change.to, change.actorKind);
  if (verdict.kind === "unchanged") {
    return { kind: "unchanged", status: order.status };
  }
  if (verdict.kind === "refused") {
    return { kind: "refused", status: order.status, message: verdict.message, reservedForServices: verdict.reservedForServices };
  }
  const now = Date.now();
  await ctx.db.patch("work_orders", order._id, { status: change.to, updatedAt: now });
  await statusEntered(ctx, order, order.status, { ...change, reason }, now);
  // A service's own call (source api) makes no event; a webhook's or the reconciler's does, though it acts as a service.
  await recordEvent(ctx, { source: change.source, byService: change.source === "api" && change.actorKind === "service" }, {
    type: "work_order.status.changed",
    data: { workOrderId: order._id, sessionId: order.sessionId, from: order.status, to: change.to, source: change.source, ...(reason === undefined ? {} : { reason }) },
  });
  return { kind: "changed", status: change.to };
}

// A canceled order from these statuses may have a workflow running (a launch can reach Temporal unanswered): it is asked to stop.
const MAY_RUN: ReadonlySet<WorkOrderStatus | null> = new Set(["submitted", "accepted", "running"]);

/**
 * Everything that follows an order entering a status, in one place, for a
 * new order (`from` null) and for every change:
 * - the history row (work_order_status_changes);
 * - a final status takes it out of the live indexes: webhooks no longer find
 *   it by its branch or its issues and pull requests;
 * - submitted: it is launched on Temporal (when this deployment launches);
 * - canceled after it may have started: its workflow is asked to cancel,
 *   unless the reconciler canceled it, which it does only when Temporal says
 *   the workflow was canceled;
 * - its Slack card and its GitHub check run show the new status.
 */
export async function statusEntered(
  ctx: MutationCtx,
  order: Pick<Doc<"work_orders">, "_id" | "sessionId">,
  from: WorkOrderStatus | null,
  change: Pick<StatusChange, "to" | "source" | "actor" | "delivery" | "reason">,
  changedAt: number,
) {
  await ctx.db.insert("work_order_status_changes", {
    workOrderId: order._id,
    from,
    to: change.to,
    source: change.source,
    reason: change.reason,
    actor: change.actor,
    delivery: change.delivery,
    changedAt,
  });
  if (isTerminal(change.to)) {
    await dropFromLiveIndex(ctx, order._id);
  }
  if (change.to === "submitted") {
    await scheduleLaunch(ctx, order._id);
  }
  if (change.to === "canceled" && MAY_RUN.has(from) && change.source !== "reconcile") {
    await scheduleCancel(ctx, order._id, cancelReason(change));
  }
  await orderChanged(ctx, order);
}

/** Why a workflow is canceled, as Temporal records it: who canceled the order, and their reason. */
export function cancelReason(change: Pick<StatusChange, "actor" | "reason">): string {
  return truncate(`Jangar work order canceled by ${change.actor}${change.reason ? `: ${change.reason}` : ""}`, LIMITS.reasonChars);
}

/** A status change the reconciler (or the launcher) asks for, as the history records it. */
export function byReconciler(to: WorkOrderStatus, reason: string): StatusChange {
  return { to, source: "reconcile", actorKind: "service", actor: "reconciler", reason };
}
