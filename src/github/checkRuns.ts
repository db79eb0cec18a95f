import type { WorkOrderStatus } from "../workOrders/status";

/*
 * A work order's check run as GitHub shows it
 * (docs/contract.md#github-both-ways-the-app-comments-in-replies-and-check-runs-out):
 * its name, status and conclusion from the order's status, its output
 * (the status and the latest reason), and the buttons a person may press
 * (Cancel while the order is live, Retry once it has failed and was not
 * retried yet). Pure: the outbox's GitHub destination renders it when it
 * sends, so that one request shows the order as it is then; and how it is
 * found again among a commit's check runs.
 */

/** GitHub's limits on a check run's fields. */
export const CHECK_RUN_LIMITS = { nameChars: 100, actionLabelChars: 20, actionDescriptionChars: 40, actionIdentifierChars: 20 } as const;

/** The identifiers of the buttons a check run offers: what a `requested_action` delivery names. */
export const CHECK_RUN_ACTIONS = {
  cancel: { label: "Cancel", description: "Stop this work order", identifier: "cancel" },
  retry: { label: "Retry", description: "Run this work order again", identifier: "retry" },
} as const;
export type CheckRunAction = keyof typeof CHECK_RUN_ACTIONS;

type Conclusion = "success" | "failure" | "cancelled";

const STATE: Record<WorkOrderStatus, { status: "queued" | "in_progress" | "completed"; conclusion?: Conclusion }> = {
  draft: { status: "queued" },
  submitted: { status: "queued" },
  accepted: { status: "in_progress" },
  running: { status: "in_progress" },
  succeeded: { status: "completed", conclusion: "success" },
  failed: { status: "completed", conclusion: "failure" },
  canceled: { status: "completed", conclusion: "cancelled" },
};

export type CheckRunOrder = {
  workOrderId: string;
  title: string;
  status: WorkOrderStatus;
  /** The reason of the order's latest status change, if it gave one. */
  reason?: string;
  /** The order a failed one was retried as: it offers Retry no more. */
  retriedAs?: string;
};

export type CheckRunFields = {
  name: string;
  external_id: string;
  status: "queued" | "in_progress" | "completed";
  conclusion?: Conclusion;
  output: { title: string; summary: string };
  actions: { label: string; description: string; identifier: string }[];
};

/** `Jangar: <title>`, cut to GitHub's 100 characters (whole UTF-16 pairs). */
export function checkRunName(title: string): string {
  const name = `Jangar: ${title}`;
  if (name.length <= CHECK_RUN_LIMITS.nameChars) {
    return name;
  }
  const cut = name.slice(0, CHECK_RUN_LIMITS.nameChars - 1);
  return `${/[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut}…`;
}

/** The buttons the order's check run offers now. */
export function checkRunActions(order: Pick<CheckRunOrder, "status" | "retriedAs">): CheckRunAction[] {
  if (order.status === "failed") {
    return order.retriedAs === undefined ? ["retry"] : [];
  }
  return STATE[order.status].status === "completed" ? [] : ["cancel"];
}

/** The check run's fields for the order as it is (a PATCH sends them all, so that each update shows the whole order). */
export function renderCheckRun(order: CheckRunOrder): CheckRunFields {
  const { status, conclusion } = STATE[order.status];
  const retried = order.retriedAs === undefined ? "" : `\n\nRetried as work order ${order.retriedAs}.`;
  const reason = order.reason === undefined || order.reason.trim() === "" ? `Work order ${order.workOrderId} is ${order.status}.` : order.reason;
  return {
    name: checkRunName(order.title),
    external_id: order.workOrderId,
    status,
    ...(conclusion === undefined ? {} : { conclusion }),
    output: { title: order.status, summary: `${reason}${retried}` },
    actions: checkRunActions(order).map((action) => ({ ...CHECK_RUN_ACTIONS[action] })),
  };
}

/**
 * The id of the order's check run in GitHub's list of a commit's check runs
 * (`{ total_count, check_runs }`), found by its `external_id`: the one an
 * attempt without a clear answer may have made. Reads the first 100 only.
 */
export function madeCheckRun(listed: unknown, workOrderId: string): number | undefined {
  const runs = (typeof listed === "object" && listed !== null ? listed : {}) as { check_runs?: unknown };
  if (!Array.isArray(runs.check_runs)) {
    return undefined;
  }
  for (const run of runs.check_runs.slice(0, 100)) {
    const { id, external_id: externalId } = (typeof run === "object" && run !== null ? run : {}) as { id?: unknown; external_id?: unknown };
    if (typeof id === "number" && externalId === workOrderId) {
      return id;
    }
  }
  return undefined;
}
