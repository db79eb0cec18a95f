import { DELIVERY_TALLY_SHARDS } from "../../../convex/model/inbox/deliveries";
import { OUTBOX_TALLY_SHARDS } from "../../../convex/outbox/rows";
import type { Backend } from "../backend";
import type { WriteSet } from "./writeSets";

/*
 * The write rate of the busiest documents at a stated load, and the conflict
 * estimate it implies (docs/performance.md#the-inbox-at-10000-deliveries-a-minute).
 * What each operation writes is measured (test/helpers/bench/writeSets.ts); the
 * model is stated here:
 * - writes to one document arrive as a Poisson process of rate r, so a
 *   transaction lasting d meets another's write with probability 1 − e^(−r·d);
 * - a counter's writes spread evenly over its shards (chosen at random, or
 *   by lane over many lanes);
 * - d is 10 to 40 ms for every mutation on these paths.
 */

/** Which counter a shard belongs to: its table and key (a tally holds every status). */
const COUNTERS: Record<string, { shards: number; keyOf: (shard: Record<string, unknown>) => string }> = {
  delivery_tallies: { shards: DELIVERY_TALLY_SHARDS, keyOf: (shard) => `${String(shard.source)}` },
  outbox_tallies: { shards: OUTBOX_TALLY_SHARDS, keyOf: (shard) => `${String(shard.destination)}` },
};

export const DURATIONS_MS = [10, 40];

export type CounterWrites = Map<string, number>;

/** How many of an operation's transactions wrote each counter (`table key`). */
export async function counterWritesOf(t: Backend, writeSets: WriteSet[]): Promise<CounterWrites> {
  const writes: CounterWrites = new Map();
  for (const writeSet of writeSets) {
    const counters = new Set<string>();
    for (const document of writeSet) {
      const [table, id] = document.split(":");
      if (COUNTERS[table] === undefined) continue;
      const shard = (await t.run(async (ctx) => await ctx.db.get(id as never))) as Record<string, unknown> | null;
      if (shard !== null) counters.add(`${table} ${COUNTERS[table].keyOf(shard)}`);
    }
    for (const counter of counters) writes.set(counter, (writes.get(counter) ?? 0) + 1);
  }
  return writes;
}

export type ShardRate = { counter: string; shards: number; writesPerSecond: number; conflicts: number[] };

/** Writes a second to one shard of each counter at `load` (operations a second), busiest first, with the conflict estimate at each of DURATIONS_MS. */
export function shardRates(load: [operation: string, perSecond: number][], writes: Map<string, CounterWrites>): ShardRate[] {
  const perCounter = new Map<string, number>();
  for (const [operation, perSecond] of load) {
    for (const [counter, transactions] of writes.get(operation) ?? []) {
      perCounter.set(counter, (perCounter.get(counter) ?? 0) + perSecond * transactions);
    }
  }
  return [...perCounter]
    .map(([counter, total]) => {
      const shards = COUNTERS[counter.split(" ")[0]].shards;
      const writesPerSecond = total / shards;
      return { counter, shards, writesPerSecond, conflicts: DURATIONS_MS.map((ms) => 1 - Math.exp((-writesPerSecond * ms) / 1000)) };
    })
    .sort((a, b) => b.writesPerSecond - a.writesPerSecond);
}
