import type { Doc, Id } from "../../_generated/dataModel";
import type { QueryCtx } from "../../_generated/server";
import { canonicalLinkValue, type LinkKind } from "../../../src/workOrders/links";
import { valueOf } from "../platform/errors";
import type { WorkOrderLink } from "./shapes";

/*
 * An order's links as stored: their canonical form, how they are named in
 * maps, and how they are read back (one by one, or kind by kind). Adding
 * links is ./addLinks.ts; their count, ./linkCounts.ts.
 */

/** The most links one work order holds (docs/contract.md#github-x-github-event): `workOrders:get` reads them all. */
export const MAX_LINKS_PER_ORDER = 5_000;

export function checkLink(link: WorkOrderLink): WorkOrderLink {
  return { kind: link.kind, value: valueOf(canonicalLinkValue(link.kind, link.value)) };
}

/** How a link is named in maps of an order's links. */
export function linkKey(link: WorkOrderLink): string {
  return `${link.kind} ${link.value}`;
}

/** The order's link row with this kind and canonical value, if any: one index lookup. */
export async function findLink(ctx: QueryCtx, workOrderId: Id<"work_orders">, link: WorkOrderLink) {
  return await ctx.db
    .query("work_order_links")
    .withIndex("by_workOrderId_kind_value", (q) =>
      q.eq("workOrderId", workOrderId).eq("kind", link.kind).eq("value", link.value),
    )
    .unique();
}

/**
 * The order's links of these kinds, in the order they were added: each kind
 * read through its index, at most `limit(readSoFar)` rows of it.
 */
export async function linksOfKinds(
  ctx: QueryCtx,
  workOrderId: Id<"work_orders">,
  kinds: readonly LinkKind[],
  limit: (readSoFar: number) => number,
): Promise<Doc<"work_order_links">[]> {
  const rows: Doc<"work_order_links">[] = [];
  for (const kind of kinds) {
    const room = limit(rows.length);
    if (room > 0) {
      rows.push(
        ...(await ctx.db
          .query("work_order_links")
          .withIndex("by_workOrderId_kind", (q) => q.eq("workOrderId", workOrderId).eq("kind", kind))
          .take(room)),
      );
    }
  }
  return rows.sort((a, b) => a._creationTime - b._creationTime);
}
