import type { LinkKind } from "./workOrders/links";
import type { WorkOrderStatus } from "./workOrders/status";

/**
 * How a command names the work orders it concerns (CONTRACT.md section 4):
 * - `id`: a work order id given by the sender (a `Work-Order:` marker, an
 *   event's `workOrderId`); it counts only if such an order exists;
 * - `target`: every order, not yet in a final status, whose target is this
 *   canonical repository and branch;
 * - `link`: every order already linked to this canonical issue or pull request.
 */
export type WorkOrderSelector =
  | { by: "id"; workOrderId: string }
  | { by: "target"; targetRepo: string; targetBranch: string }
  | { by: "link"; kind: LinkKind; value: string };

/**
 * What a verified delivery asks of the data, as plain values. Mappers in
 * src/sources/ produce commands; convex/model/apply.ts executes them through
 * the same helpers as the public functions.
 */
export type Command =
  | {
      type: "addLink";
      workOrders: WorkOrderSelector[];
      link: { kind: LinkKind; value: string };
    }
  | {
      type: "changeStatus";
      workOrders: WorkOrderSelector[];
      to: WorkOrderStatus;
      reason?: string;
    };

/** What a source makes of a verified payload: commands to apply, or why it does nothing with it. */
export type Interpretation =
  | { kind: "commands"; commands: Command[] }
  | { kind: "ignored"; reason: string };
