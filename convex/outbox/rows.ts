import type { Doc } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { patchCounted, shardedCounter, type CountedRows } from "../model/platform/counters";
import { DESTINATIONS } from "./registry";
import { OUTBOX_STATUSES, type OutboxStatus } from "./tables";

/*
 * Outbox rows counted by destination and status, in the transaction that
 * changes them. Every claim and every record of a lane's runner moves a row
 * from one status to another, so the shards are chosen for the lanes: a
 * lane writes SPREAD neighbouring shards of SHARDS, starting at its key's
 * hash, one of them at random. No shard is written by every transaction of
 * a lane, and lanes of different hashes write different shards, so that
 * busy lanes do not fight over one document (docs/reliability.md).
 */

const SHARDS = 16;
const SPREAD = 4;

type CountKey = { destination: string; status: OutboxStatus; lane?: string };

/** A string's 32-bit FNV-1a hash: where a lane's shards start. */
function hash(text: string): number {
  let value = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    value = Math.imul(value ^ text.charCodeAt(i), 0x01000193) >>> 0;
  }
  return value;
}

const outboxCounter = shardedCounter<CountKey>({
  table: "outbox_counters",
  shards: SHARDS,
  shardOf: ({ destination, lane }) =>
    lane === undefined
      ? Math.floor(Math.random() * SHARDS)
      : (hash(`${destination}:${lane}`) + Math.floor(Math.random() * SPREAD)) % SHARDS,
  shardsOf: (ctx, { destination, status }, shard) =>
    ctx.db.query("outbox_counters").withIndex("by_destination_status_shard", (q) => {
      const key = q.eq("destination", destination).eq("status", status);
      return shard === undefined ? key : key.eq("shard", shard);
    }),
  insertShard: (ctx, { destination, status }, shard, count) => ctx.db.insert("outbox_counters", { destination, status, shard, count }),
});

const countedRows: CountedRows<"outbox", CountKey> = {
  table: "outbox",
  counter: outboxCounter,
  keyOf: ({ destination, lane }, status) => ({ destination, lane, status }),
};

/** Adds `delta` to the count of a destination's rows in `status` (of `lane`, whose shards it then writes). */
export async function countRows(ctx: MutationCtx, key: CountKey, delta: number) {
  await outboxCounter.add(ctx, key, delta);
}

/** Changes an outbox row, keeping the counts right. */
export async function updateRow(
  ctx: MutationCtx,
  row: Doc<"outbox">,
  change: Partial<Omit<Doc<"outbox">, "_id" | "_creationTime" | "destination" | "lane" | "request">>,
) {
  await patchCounted(ctx, countedRows, row, change);
}

export type OutboxCount = { destination: string; status: OutboxStatus; count: number };

/**
 * Rows by destination and status: every registered destination's, and any
 * other destination that has counts, each with every status.
 */
export async function outboxCounts(ctx: QueryCtx): Promise<OutboxCount[]> {
  const shards = await ctx.db.query("outbox_counters").withIndex("by_destination_status_shard").take(SHARDS * OUTBOX_STATUSES.length * 64);
  const destinations = [...new Set<string>([...DESTINATIONS, ...shards.map((shard) => shard.destination)])];
  return destinations.flatMap((destination) =>
    OUTBOX_STATUSES.map((status) => ({
      destination,
      status,
      count: shards.filter((shard) => shard.destination === destination && shard.status === status).reduce((sum, shard) => sum + shard.count, 0),
    })),
  );
}

/** A destination's failed rows, as its counts say. */
export async function countFailedRows(ctx: QueryCtx, destination: string): Promise<number> {
  return await outboxCounter.read(ctx, { destination, status: "failed" });
}
