import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../_generated/server";

/*
 * Counts kept beside the rows they count, in the transaction that changes
 * them (deliveries per source and status, outbox rows per destination and
 * status). A count is spread over shards: an update writes one shard, picked
 * at random (or as the counter's `shardOf` says) and read by a point lookup,
 * so that transactions running at once rarely write, or read, the same
 * document; the count is the sum of its shards.
 */

type CounterTable = "outbox_counters";
type Shard = { _id: Id<CounterTable>; count: number };
type ShardQuery = { unique(): Promise<Shard | null>; take(n: number): Promise<Shard[]> };

/** Where a count's shards are: the table's own index and insert, the only parts that differ between tables. */
type ShardStore<Key> = {
  table: CounterTable;
  shards: number;
  /** Which shard an update writes; by default one at random. */
  shardOf?(key: Key): number;
  /** The key's shards through the table's index, or its one shard numbered `shard`. */
  shardsOf(ctx: QueryCtx, key: Key, shard?: number): ShardQuery;
  insertShard(ctx: MutationCtx, key: Key, shard: number, count: number): Promise<unknown>;
};

export type ShardedCounter<Key> = {
  /** Adds `delta` (which may be negative) to the key's count. */
  add(ctx: MutationCtx, key: Key, delta: number): Promise<void>;
  /** The key's count: the sum of its shards. */
  read(ctx: QueryCtx, key: Key): Promise<number>;
};

export function shardedCounter<Key>(store: ShardStore<Key>): ShardedCounter<Key> {
  return {
    async add(ctx, key, delta) {
      const shard = store.shardOf?.(key) ?? Math.floor(Math.random() * store.shards);
      const row = await store.shardsOf(ctx, key, shard).unique();
      if (row === null) {
        await store.insertShard(ctx, key, shard, delta);
      } else {
        await ctx.db.patch(store.table, row._id, { count: row.count + delta });
      }
    },
    async read(ctx, key) {
      const shards = await store.shardsOf(ctx, key).take(store.shards);
      return shards.reduce((sum, shard) => sum + shard.count, 0);
    },
  };
}

/** A table whose rows are counted by their status (with what else the key holds), and how a row's key reads. */
export type CountedRows<T extends "webhook_deliveries" | "outbox", Key> = {
  table: T;
  counter: ShardedCounter<Key>;
  keyOf: (row: Doc<T>, status: Doc<T>["status"]) => Key;
};

/** Changes a counted row; a change of status moves the row from one count to the other, in the same transaction. */
export async function patchCounted<T extends "webhook_deliveries" | "outbox", Key>(
  ctx: MutationCtx,
  rows: CountedRows<T, Key>,
  row: Doc<T>,
  change: Partial<Doc<T>>,
) {
  await ctx.db.patch(rows.table, row._id, change);
  if (change.status !== undefined && change.status !== row.status) {
    await rows.counter.add(ctx, rows.keyOf(row, row.status), -1);
    await rows.counter.add(ctx, rows.keyOf(row, change.status), 1);
  }
}
