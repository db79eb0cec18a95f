import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { canonicalLinkValue, type LinkKind } from "../../src/workOrders/links";
import { valueOf } from "./errors";

export type WorkOrderLink = { kind: LinkKind; value: string };

export function checkLink(link: WorkOrderLink): WorkOrderLink {
  return { kind: link.kind, value: valueOf(canonicalLinkValue(link.kind, link.value)) };
}

/** The link row of this work order with this kind and (canonical) value, if any. */
async function findLink(
  ctx: QueryCtx,
  workOrderId: Id<"work_orders">,
  link: WorkOrderLink,
): Promise<Doc<"work_order_links"> | null> {
  // The same issue or commit may be linked to a few work orders; walk only those.
  const sameValue = ctx.db
    .query("work_order_links")
    .withIndex("by_kind_value", (q) => q.eq("kind", link.kind).eq("value", link.value));
  for await (const row of sameValue) {
    if (row.workOrderId === workOrderId) {
      return row;
    }
  }
  return null;
}

/** Links an issue, pull request or commit to a work order, once: adding it again returns the existing row. */
export async function addLink(
  ctx: MutationCtx,
  order: Doc<"work_orders">,
  link: WorkOrderLink,
): Promise<{ linkId: Id<"work_order_links">; added: boolean }> {
  const checked = checkLink(link);
  const existing = await findLink(ctx, order._id, checked);
  if (existing !== null) {
    return { linkId: existing._id, added: false };
  }
  const linkId = await ctx.db.insert("work_order_links", { workOrderId: order._id, ...checked });
  await ctx.db.patch("work_orders", order._id, { updatedAt: Date.now() });
  return { linkId, added: true };
}
