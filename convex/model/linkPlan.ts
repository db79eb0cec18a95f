import type { Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import type { Applied } from "./applied";
import type { Found } from "./correlation";
import { addLinks, linkKey, MAX_LINKS_PER_ORDER, type WorkOrderLink } from "./links";

// Links written per transaction. Each costs one index lookup, at most one
// document read and one written (at most LINK_BYTES each way), so with the
// reads of resolving (at most 600 orders, correlation.ts) a transaction stays
// well within Convex's 4,096 index ranges and 16,000 writes; fewer when the
// transaction has less left (linkRoom), keeping RESERVE for an order's
// counter shards and updatedAt and for recording the delivery.
const LINKS_PER_TRANSACTION = 1_000;
const LINK_BYTES = 2_600;
const RESERVE = 40;

/** How many more links this transaction can write, by what it has left of Convex's limits. */
async function linkRoom(ctx: MutationCtx): Promise<number> {
  const left = await ctx.meta.getTransactionMetrics();
  return (
    Math.min(
      left.databaseQueries.remaining,
      left.documentsRead.remaining,
      left.documentsWritten.remaining,
      Math.floor(left.bytesRead.remaining / LINK_BYTES),
      Math.floor(left.bytesWritten.remaining / LINK_BYTES),
    ) - RESERVE
  );
}

/** The links a delivery asks for, per order, each once, in the order they were asked for. */
export type LinkPlan = Map<Id<"work_orders">, Map<string, WorkOrderLink>>;

export function planLink(plan: LinkPlan, workOrderId: Id<"work_orders">, link: WorkOrderLink) {
  const planned = plan.get(workOrderId) ?? new Map<string, WorkOrderLink>();
  planned.set(linkKey(link), link);
  plan.set(workOrderId, planned);
}

/**
 * Writes the planned links from position `from` (counted over every order's
 * links, in plan order), as many as fit this transaction; returns where the
 * next transaction starts, or null when all are written. `touched` is told
 * of each order that gained links.
 */
export async function writeLinks(
  ctx: MutationCtx,
  plan: LinkPlan,
  from: number,
  applied: Applied,
  known: Found["knownLinks"],
  touched: (workOrderId: Id<"work_orders">) => Promise<void>,
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
    const room = Math.min(LINKS_PER_TRANSACTION - written, await linkRoom(ctx));
    if (room <= 0) {
      if (written === 0) {
        // Not one link fits: a transaction after this one would fare no better.
        throw new Error("This transaction has no room left within Convex's limits to write a link.");
      }
      return position + start;
    }
    const batch = links.slice(start, start + room);
    const outcomes = await addLinks(ctx, workOrderId, batch, known.get(workOrderId));
    let added = 0;
    for (const result of outcomes) {
      if (result.outcome === "added") {
        added += 1;
        applied.touch(
          "work_order_links",
          result.linkId,
          `linked ${result.link.kind} ${result.link.value} to work order ${workOrderId}`,
        );
      }
    }
    const refused = outcomes.filter((result) => result.outcome === "full").length;
    if (refused > 0) {
      applied.skip(
        `Work order ${workOrderId} holds ${MAX_LINKS_PER_ORDER} links, the most it may; ${refused} more not added.`,
      );
    }
    if (added > 0) {
      await touched(workOrderId);
    }
    written += batch.length;
    if (start + batch.length < links.length) {
      return position + start + batch.length;
    }
    position += links.length;
  }
  return null;
}
