import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx } from "../../_generated/server";
import type { Applied } from "./report";
import { budget, roomFor, type Budget } from "../platform/budget";
import { EVENT_COST, LINK_ROW_BYTES, VALUE_ROW_BYTES } from "./budget";
import type { Found } from "./selectors";
import type { ChangeOrigin } from "../platform/callers";
import { addLinks } from "../workOrders/addLinks";
import { linkKey, MAX_LINKS_PER_ORDER } from "../workOrders/links";
import type { WorkOrderLink } from "../workOrders/shapes";

// Links written per transaction. Each costs one index lookup, at most one
// document read and one written (at most LINK_BYTES each way), and for an
// issue or a pull request of a live order one row of its live index, and
// its event (EVENT_COST, and the link's value); with
// what each order costs besides (the caller's `perOrder`) and the reserve
// kept for recording the delivery, a transaction writes as many as fit
// what it has left of Convex's limits (ctx.meta.getTransactionMetrics).
const LINKS_PER_TRANSACTION = 1_000;
const LINK_COST = budget({
  bytesRead: 2 * VALUE_ROW_BYTES + EVENT_COST.bytesRead,
  bytesWritten: 2 * VALUE_ROW_BYTES + EVENT_COST.bytesWritten + LINK_ROW_BYTES,
  documentsRead: 1 + EVENT_COST.documentsRead,
  documentsWritten: 2 + EVENT_COST.documentsWritten,
  databaseQueries: 1 + EVENT_COST.databaseQueries,
});

/** The links a delivery asks for, per order, each once, in the order they were asked for. */
export type LinkPlan = Map<Id<"work_orders">, Map<string, WorkOrderLink>>;

export function planLink(plan: LinkPlan, workOrderId: Id<"work_orders">, link: WorkOrderLink) {
  const planned = plan.get(workOrderId) ?? new Map<string, WorkOrderLink>();
  planned.set(linkKey(link), link);
  plan.set(workOrderId, planned);
}

type LinkWriting = {
  applied: Applied;
  /** Link rows already read (rule 3), per order: known to exist. */
  known: Found["knownLinks"];
  /** The order as this transaction reads it (once). */
  orderOf: (workOrderId: Id<"work_orders">) => Promise<Doc<"work_orders"> | null>;
  /** Told of each order that gained links. */
  touched: (order: Doc<"work_orders">) => Promise<void>;
  /** What each order costs besides its links: reading and touching it. */
  perOrder: Budget;
  /** Nothing else was done in this transaction: if not one link fits, no later one would fare better. */
  firstInTransaction: boolean;
  /** Where the links come from, as their events say. */
  origin: ChangeOrigin;
};

/**
 * Writes the planned links from position `from` (counted over every order's
 * links, in plan order), as many as fit this transaction; returns where the
 * next transaction starts, or null when all are written.
 */
export async function writeLinks(
  ctx: MutationCtx,
  plan: LinkPlan,
  from: number,
  { applied, known, orderOf, touched, perOrder, firstInTransaction, origin }: LinkWriting,
): Promise<number | null> {
  let position = 0;
  let written = 0;
  for (const [workOrderId, planned] of plan) {
    const links = [...planned.values()];
    const start = Math.max(0, from - position);
    if (start >= links.length) {
      position += links.length;
      continue;
    }
    const room = Math.min(LINKS_PER_TRANSACTION - written, await roomFor(ctx, LINK_COST, perOrder));
    if (room <= 0) {
      if (written === 0 && firstInTransaction) {
        // Not one link fits: a transaction after this one would fare no better.
        throw new Error("This transaction has no room left within Convex's limits to write a link.");
      }
      return position + start;
    }
    const batch = links.slice(start, start + room);
    const outcomes = await addLinks(ctx, workOrderId, batch, { known: known.get(workOrderId), orderOf: () => orderOf(workOrderId), origin });
    let added = 0;
    for (const result of outcomes) {
      if (result.outcome === "added") {
        added += 1;
        applied.touch("work_order_links", result.linkId, `linked ${result.link.kind} ${result.link.value} to work order ${workOrderId}`);
      }
    }
    const refused = outcomes.filter((result) => result.outcome === "full").length;
    if (refused > 0) {
      applied.skip(`Work order ${workOrderId} holds ${MAX_LINKS_PER_ORDER} links, the most it may; ${refused} more not added.`);
    }
    const order = added > 0 ? await orderOf(workOrderId) : null;
    if (order !== null) {
      await touched(order);
    }
    written += batch.length;
    if (start + batch.length < links.length) {
      return position + start + batch.length;
    }
    position += links.length;
  }
  return null;
}
