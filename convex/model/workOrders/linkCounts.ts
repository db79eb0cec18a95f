import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx } from "../../_generated/server";
import { MAX_LINKS_PER_ORDER } from "./links";

/*
 * How many links each order holds, kept beside them so that the cap of
 * MAX_LINKS_PER_ORDER holds without reading an order's links. The count is
 * spread over shards, each allowed its share of the cap; a burst of
 * deliveries linking to one order then writes different rows instead of one
 * counter document in every transaction.
 */
const COUNT_SHARDS = 8;
const SHARD_CAP = MAX_LINKS_PER_ORDER / COUNT_SHARDS;

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
export async function takeLinkSlots(ctx: MutationCtx, workOrderId: Id<"work_orders">, wanted: number): Promise<number> {
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
