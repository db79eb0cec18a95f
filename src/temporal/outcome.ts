import type { WorkOrderStatus } from "../workOrders/status";
import type { Described } from "./client";

/** What the reconciler does to a stale order after asking Temporal about its workflow. */
export type Reconciliation =
  | { kind: "move"; to: WorkOrderStatus; reason: string }
  /** The workflow runs: the order is not stale, only quiet. */
  | { kind: "refresh"; reason: string }
  /** Temporal could not say; nothing changes until the next run. */
  | { kind: "wait"; reason: string };

/** The contract's mapping of a workflow execution's status onto a work order (docs/contract.md#5-reconciliation-and-temporal). */
export function reconciliationFor(current: WorkOrderStatus, described: Described): Reconciliation {
  if (described.kind === "unavailable") {
    return { kind: "wait", reason: described.reason };
  }
  if (described.kind === "notFound") {
    return { kind: "move", to: "failed", reason: "workflow not found in Temporal" };
  }
  const reason = `WORKFLOW_EXECUTION_STATUS_${described.status}`;
  switch (described.status) {
    case "RUNNING":
    case "CONTINUED_AS_NEW":
    case "PAUSED":
      return current === "accepted" ? { kind: "move", to: "running", reason } : { kind: "refresh", reason };
    case "COMPLETED":
      return { kind: "move", to: "succeeded", reason };
    case "FAILED":
    case "TIMED_OUT":
    case "TERMINATED":
      return { kind: "move", to: "failed", reason };
    case "CANCELED":
      return { kind: "move", to: "canceled", reason };
  }
}
