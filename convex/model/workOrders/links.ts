import type { Infer } from "convex/values";
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../_generated/server";
import { canonicalLinkValue, type LinkKind } from "../../../src/workOrders/links";
import { invalidArgument, valueOf } from "../platform/errors";
import { indexLiveLinks } from "./liveIndex";
import { syncCard } from "../slackOutbox";
import schema from "../../schema";
import { touchWorkOrder } from "./updatedAt";

/** A link as the join returns it. */
export const vLink = schema.tables.work_order_links.validator.pick("kind", "value");
export type WorkOrderLink = Infer<typeof vLink>;

/** The most links one work order holds (docs/contract.md section 4): `workOrders:get` reads them all. */
export const MAX_LINKS_PER_ORDER = 5_000;

// The count is spread over shards, each allowed its share of the cap; a
// burst of deliveries linking to one order then writes different rows
// instead of one counter document in every transaction.
const COUNT_SHARDS = 8;
const SHARD_CAP = MAX_LINKS_PER_ORDER / COUNT_SHARDS;

export function checkLink(link: WorkOrderLink): WorkOrderLink {
  return { kind: link.kind, value: valueOf(canonicalLinkValue(link.kind, link.value)) };
}

/** How a link is named in maps of an order's links. */
export function linkKey(link: WorkOrderLink): string {
  return `${link.kind} ${link.value}`;
}

/** The order's link row with this kind and canonical value, if any: one index lookup. */
async function findLink(ctx: QueryCtx, workOrderId: Id<"work_orders">, link: WorkOrderLink) {
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

/** Raises one shard of the order's link count by `count`, creating the shard's row if it has none. */
async function raiseShard(
  ctx: MutationCtx,
  workOrderId: Id<"work_orders">,
  shard: number,
  counter: Doc<"work_order_link_counts"> | null,
  count: number,
) {
  if (counter === null) {
    await ctx.db.insert("work_order_link_counts", { workOrderId, shard, count });
  } else {
    await ctx.db.patch("work_order_link_counts", counter._id, { count: counter.count + count });
  }
}

/**
 * Takes up to `wanted` of the order's free link slots and returns how many
 * it got: fewer only when the order is at the cap. Starts at a random shard
 * and reads the next ones only while the earlier are full.
 */
async function takeLinkSlots(ctx: MutationCtx, workOrderId: Id<"work_orders">, wanted: number): Promise<number> {
  let granted = 0;
  const first = Math.floor(Math.random() * COUNT_SHARDS);
  for (let i = 0; i < COUNT_SHARDS && granted < wanted; i += 1) {
    const shard = (first + i) % COUNT_SHARDS;
    const counter = await ctx.db
      .query("work_order_link_counts")
      .withIndex("by_workOrderId_shard", (q) => q.eq("workOrderId", workOrderId).eq("shard", shard))
      .unique();
    const take = Math.min(SHARD_CAP - (counter?.count ?? 0), wanted - granted);
    if (take > 0) {
      await raiseShard(ctx, workOrderId, shard, counter, take);
      granted += take;
    }
  }
  return granted;
}

/**
 * Counts the order's links that predate the count (written before
 * work_order_link_counts existed): the shards are raised until they add up
 * to the links the order holds (at most MAX_LINKS_PER_ORDER). Reads at most
 * MAX_LINKS_PER_ORDER + 1 link rows; a count never goes down.
 */
export async function recountLinks(ctx: MutationCtx, workOrderId: Id<"work_orders">): Promise<{ links: number; added: number }> {
  const rows = await ctx.db
    .query("work_order_links")
    .withIndex("by_workOrderId_kind", (q) => q.eq("workOrderId", workOrderId))
    .take(MAX_LINKS_PER_ORDER + 1);
  const links = Math.min(rows.length, MAX_LINKS_PER_ORDER);
  const shards = await ctx.db
    .query("work_order_link_counts")
    .withIndex("by_workOrderId_shard", (q) => q.eq("workOrderId", workOrderId))
    .take(COUNT_SHARDS);
  let missing = links - shards.reduce((sum, shard) => sum + shard.count, 0);
  const added = Math.max(0, missing);
  for (let shard = 0; shard < COUNT_SHARDS && missing > 0; shard += 1) {
    const counter = shards.find((row) => row.shard === shard) ?? null;
    const take = Math.min(SHARD_CAP - (counter?.count ?? 0), missing);
    if (take > 0) {
      await raiseShard(ctx, workOrderId, shard, counter, take);
      missing -= take;
    }
  }
  return { links, added };
}

export type LinkOutcome =
  | { link: WorkOrderLink; outcome: "added" | "existing"; linkId: Id<"work_order_links"> }
  /** Not added: the order already holds MAX_LINKS_PER_ORDER links. */
  | { link: WorkOrderLink; outcome: "full" };

/**
 * Links distinct, canonical issues, pull requests or commits to a work
 * order, each once: a link it already has is left as it is. Each link costs
 * one index lookup, however many links the order holds; `known` names rows
 * the caller has already read. The order itself is read (`orderOf`, as this
 * transaction has it) only when an issue or pull request is added. The
 * order's updatedAt is the caller's to move (touchWorkOrder), once per
 * transaction.
 */
export async function addLinks(
  ctx: MutationCtx,
  workOrderId: Id<"work_orders">,
  links: WorkOrderLink[],
  { known = new Map(), orderOf }: { known?: ReadonlyMap<string, Id<"work_order_links">>; orderOf: () => Promise<Doc<"work_orders"> | null> },
): Promise<LinkOutcome[]> {
  const existing: (Id<"work_order_links"> | null)[] = [];
  for (const link of links) {
    existing.push(known.get(linkKey(link)) ?? (await findLink(ctx, workOrderId, link))?._id ?? null);
  }
  let slots = await takeLinkSlots(ctx, workOrderId, existing.filter((linkId) => linkId === null).length);
  const outcomes: LinkOutcome[] = [];
  for (const [i, link] of links.entries()) {
    const linkId = existing[i];
    if (linkId !== null) {
      outcomes.push({ link, outcome: "existing", linkId });
    } else if (slots > 0) {
      slots -= 1;
      outcomes.push({ link, outcome: "added", linkId: await ctx.db.insert("work_order_links", { workOrderId, ...link }) });
    } else {
      outcomes.push({ link, outcome: "full" });
    }
  }
  const added = outcomes.flatMap((result) => (result.outcome === "added" ? [result.link] : []));
  if (added.some((link) => link.kind !== "commit")) {
    const order = await orderOf();
    if (order !== null) {
      await indexLiveLinks(ctx, order, added);
      if (added.some((link) => link.kind === "pr")) {
        await syncCard(ctx, order);
      }
    }
  }
  return outcomes;
}

/**
 * Links an issue, pull request or commit to a work order, once: adding it
 * again returns the existing row. An order at the cap refuses new links.
 */
export async function addLink(
  ctx: MutationCtx,
  order: Doc<"work_orders">,
  link: WorkOrderLink,
): Promise<Id<"work_order_links">> {
  const [result] = await addLinks(ctx, order._id, [checkLink(link)], { orderOf: async () => order });
  if (result.outcome === "full") {
    throw invalidArgument(
      `Work order ${order._id} already holds ${MAX_LINKS_PER_ORDER} links, the most it may have; link the work to a new order instead.`,
    );
  }
  if (result.outcome === "added") {
    await touchWorkOrder(ctx, order);
  }
  return result.linkId;
}
