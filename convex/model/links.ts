import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { canonicalLinkValue, type LinkKind } from "../../src/workOrders/links";
import { valueOf } from "./errors";
import { syncCard } from "./slackOutbox";

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

// Up to this many links are looked up one by one (an index lookup each); a
// bigger batch (a push of many commits) reads the order's links of the kind
// once instead, so that a delivery stays within Convex's index-range limit.
const ONE_BY_ONE = 20;

/** The existing link rows of an order, for each of these links (null when there is none). */
async function existingLinks(
  ctx: QueryCtx,
  workOrderId: Id<"work_orders">,
  links: WorkOrderLink[],
): Promise<(Doc<"work_order_links"> | null)[]> {
  if (links.length <= ONE_BY_ONE) {
    return await Promise.all(links.map((link) => findLink(ctx, workOrderId, link)));
  }
  const byKey = new Map<string, Doc<"work_order_links">>();
  for (const kind of new Set(links.map((link) => link.kind))) {
    const rows = ctx.db
      .query("work_order_links")
      .withIndex("by_workOrderId_kind", (q) => q.eq("workOrderId", workOrderId).eq("kind", kind));
    for await (const row of rows) {
      byKey.set(`${row.kind} ${row.value}`, row);
    }
  }
  return links.map((link) => byKey.get(`${link.kind} ${link.value}`) ?? null);
}

/**
 * Links issues, pull requests or commits to a work order, each once: a link
 * it already has returns the existing row. The order's updatedAt moves once
 * when anything was added.
 */
export async function addLinks(
  ctx: MutationCtx,
  order: Doc<"work_orders">,
  links: WorkOrderLink[],
): Promise<{ link: WorkOrderLink; linkId: Id<"work_order_links">; added: boolean }[]> {
  const checked = links.map(checkLink);
  const existing = await existingLinks(ctx, order._id, checked);
  const results: { link: WorkOrderLink; linkId: Id<"work_order_links">; added: boolean }[] = [];
  const addedNow = new Map<string, Id<"work_order_links">>();
  for (const [i, link] of checked.entries()) {
    const key = `${link.kind} ${link.value}`;
    const linkId = existing[i]?._id ?? addedNow.get(key);
    if (linkId !== undefined) {
      results.push({ link, linkId, added: false });
    } else {
      const inserted = await ctx.db.insert("work_order_links", { workOrderId: order._id, ...link });
      addedNow.set(key, inserted);
      results.push({ link, linkId: inserted, added: true });
    }
  }
  if (addedNow.size > 0) {
    await ctx.db.patch("work_orders", order._id, { updatedAt: Date.now() });
  }
  if (results.some(({ link, added }) => added && link.kind === "pr")) {
    await syncCard(ctx, order);
  }
  return results;
}

/** Links an issue, pull request or commit to a work order, once: adding it again returns the existing row. */
export async function addLink(ctx: MutationCtx, order: Doc<"work_orders">, link: WorkOrderLink) {
  const [result] = await addLinks(ctx, order, [link]);
  return result;
}
