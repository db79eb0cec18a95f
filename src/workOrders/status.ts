import { literals } from "convex-helpers/validators";
import type { Infer } from "convex/values";

export const WORK_ORDER_STATUSES = ["draft", "submitted", "accepted", "running", "succeeded", "failed", "canceled"] as const;
export const vWorkOrderStatus = literals(...WORK_ORDER_STATUSES);
export type WorkOrderStatus = Infer<typeof vWorkOrderStatus>;

/** Where a status change came from; recorded on every history row. */
export const STATUS_SOURCES = ["api", "github", "slack", "events", "reconcile"] as const;
export const vStatusSource = literals(...STATUS_SOURCES);
export type StatusSource = Infer<typeof vStatusSource>;

const RANK: Record<WorkOrderStatus, number> = {
  draft: 0,
  submitted: 1,
  accepted: 2,
  running: 3,
  succeeded: 4,
  failed: 4,
  canceled: 4,
};

export function isTerminal(status: WorkOrderStatus): boolean {
  return RANK[status] === 4;
}

/**
 * Who asks for the change. A user may only submit its draft or cancel its
 * order; every other status belongs to services, webhooks and the reconciler.
 */
export type StatusActor = "service" | "user";

export type TransitionVerdict =
  | { kind: "unchanged" }
  | { kind: "allowed" }
  | { kind: "refused"; message: string; reservedForServices: boolean };

/** The status machine of the contract: forward only, never out of a terminal status. */
export function judgeTransition(
  from: WorkOrderStatus,
  to: WorkOrderStatus,
  actor: StatusActor,
): TransitionVerdict {
  if (from === to) {
    return { kind: "unchanged" };
  }
  if (isTerminal(from)) {
    return {
      kind: "refused",
      message: `The work order is already ${from}, a final status; it cannot become ${to}.`,
      reservedForServices: false,
    };
  }
  if (RANK[to] <= RANK[from]) {
    return {
      kind: "refused",
      message: `A work order only moves forward (draft, submitted, accepted, running, then succeeded, failed or canceled); ${from} cannot go back to ${to}.`,
      reservedForServices: false,
    };
  }
  if (actor === "user") {
    const userMayDoThis =
      (from === "draft" && to === "submitted") || to === "canceled";
    if (!userMayDoThis) {
      return {
        kind: "refused",
        message: `A user may only submit a draft or cancel a work order; ${to} is set by the workflow runner, a webhook or the reconciler.`,
        reservedForServices: true,
      };
    }
  }
  return { kind: "allowed" };
}

