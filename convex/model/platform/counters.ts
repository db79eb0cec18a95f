import type { Id } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../_generated/server";

/*
 * Counts by status kept beside the rows they count, in the transaction that
 * changes them (outbox rows per destination). A key's counts are spread over
 * shards, each holding every status: a transaction writes one shard, picked
 * at random and read by a point lookup, once, whatever statuses it changes
 * (a move from one status to another is one write, not two), so that
 * transactions running at once rarely write the same document; a count is
 * the sum over its key's shards.
 */

type TallyTable = "outbox_tallies";
type Tally<Status extends string> = { _id: Id<TallyTable> } & Record<Status, number>;
type TallyQuery<Status extends string> = { unique(): Promise<Tally<Status> | null>; take(n: number): Promise<Tally<Status>[]> };

/** Where a key's shards are: the table's own index, insert and patch, the only parts that differ between tables. */
type TallyStore<Key, Status extends string> = {
  shards: number;
  statuses: readonly Status[];
  /** The key's shards through the table's index, or its one shard numbered `shard`. */
  shardsOf(ctx: QueryCtx, key: Key, shard?: number): TallyQuery<Status>;
  insertShard(ctx: MutationCtx, key: Key, shard: number, counts: Record<Status, number>): Promise<unknown>;
  patchShard(ctx: MutationCtx, id: Id<TallyTable>, counts: Record<Status, number>): Promise<unknown>;
};

export type StatusTally<Key, Status extends string> = {
  /** Adds each of `deltas` (which may be negative) to the key's count of its status, in one shard. */
  add(ctx: MutationCtx, key: Key, deltas: Partial<Record<Status, number>>): Promise<void>;
  /** The key's counts by status: the sum of its shards. */
  read(ctx: QueryCtx, key: Key): Promise<Record<Status, number>>;
};

export function statusTally<Key, Status extends string>(store: TallyStore<Key, Status>): StatusTally<Key, Status> {
  const zero = () => Object.fromEntries(store.statuses.map((status) => [status, 0])) as Record<Status, number>;
  return {
    async add(ctx, key, deltas) {
      const shard = Math.floor(Math.random() * store.shards);
      const row = await store.shardsOf(ctx, key, shard).unique();
      const counts = zero();
      for (const status of store.statuses) {
        counts[status] = (row?.[status] ?? 0) + (deltas[status] ?? 0);
      }
      if (row === null) {
        await store.insertShard(ctx, key, shard, counts);
      } else {
        await store.patchShard(ctx, row._id, counts);
      }
    },
    async read(ctx, key) {
      const counts = zero();
      for (const shard of await store.shardsOf(ctx, key).take(store.shards)) {
        for (const status of store.statuses) {
          counts[status] += shard[status];
        }
      }
      return counts;
    },
  };
}
