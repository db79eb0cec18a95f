import type { Doc } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { statusTally } from "../model/platform/counters";
import { DESTINATIONS } from "./registry";
import { OUTBOX_STATUSES, type OutboxStatus } from "./tables";

/*
 * Outbox rows counted by destination and status, in the transaction that
 * changes them (convex/model/platform/counters.ts): OUTBOX_TALLY_SHARDS
 * shards per destination, each holding every status, one picked at random
 * by each transaction that counts, so that a row queued, claimed and
 * recorded writes one shard each time (docs/performance.md#the-inbox-at-10000-deliveries-a-minute).
 * The counts also hold `outbox_counters`, written before (one shard per
 * status), read and never written.
 */

// Shards per destination: with events out on at 10,000 GitHub deliveries a minute, each `events` shard is written about 2.4 times a second.
export const OUTBOX_TALLY_SHARDS = 512;
// The most destinations counted at once (registered ones, and any other that has counts).
const MAX_DESTINATIONS = 16;
// The shards outbox_counters had per destination and status.
const OLD_COUNTER_SHARDS = 16;

type Deltas = Partial<Record<OutboxStatus, number>>;

const outboxTally = statusTally<string, OutboxStatus>({
  shards: OUTBOX_TALLY_SHARDS,
  statuses: OUTBOX_STATUSES,
  shardsOf: (ctx, destination, shard) =>
    ctx.db.query("outbox_tallies").withIndex("by_destination_shard", (q) => {
      const key = q.eq("destination", destination);
      return shard === undefined ? key : key.eq("shard", shard);
    }),
  insertShard: (ctx, destination, shard, counts) => ctx.db.insert("outbox_tallies", { destination, shard, ...counts }),
  patchShard: (ctx, id, counts) => ctx.db.patch("outbox_tallies", id, counts),
});

/** Adds each of `deltas` to the count of a destination's rows in its status, in one shard. */
export async function countRows(ctx: MutationCtx, destination: string, deltas: Deltas) {
  await outboxTally.add(ctx, destination, deltas);
}

/** Changes an outbox row, keeping the counts right. */
export async function updateRow(
  ctx: MutationCtx,
  row: Doc<"outbox">,
  change: Partial<Omit<Doc<"outbox">, "_id" | "_creationTime" | "destination" | "lane" | "request">>,
) {
  await ctx.db.patch("outbox", row._id, change);
  if (change.status !== undefined && change.status !== row.status) {
    await countRows(ctx, row.destination, { [row.status]: -1, [change.status]: 1 });
  }
}

export type OutboxCount = { destination: string; status: OutboxStatus; count: number };

/**
 * Rows by destination and status: every registered destination's, and any
 * other destination that has counts, each with every status.
 */
export async function outboxCounts(ctx: QueryCtx): Promise<OutboxCount[]> {
  const tallies = await ctx.db.query("outbox_tallies").withIndex("by_destination_shard").take(OUTBOX_TALLY_SHARDS * MAX_DESTINATIONS);
  const old = await ctx.db
    .query("outbox_counters")
    .withIndex("by_destination_status_shard")
    .take(OLD_COUNTER_SHARDS * OUTBOX_STATUSES.length * MAX_DESTINATIONS);
  const destinations = [...new Set<string>([...DESTINATIONS, ...tallies.map((shard) => shard.destination), ...old.map((shard) => shard.destination)])];
  return destinations.flatMap((destination) =>
    OUTBOX_STATUSES.map((status) => ({
      destination,
      status,
      count:
        tallies.filter((shard) => shard.destination === destination).reduce((sum, shard) => sum + shard[status], 0) +
        old.filter((shard) => shard.destination === destination && shard.status === status).reduce((sum, shard) => sum + shard.count, 0),
    })),
  );
}

/** A destination's failed rows, as its counts say. */
export async function countFailedRows(ctx: QueryCtx, destination: string): Promise<number> {
  const old = await ctx.db
    .query("outbox_counters")
    .withIndex("by_destination_status_shard", (q) => q.eq("destination", destination).eq("status", "failed"))
    .take(OLD_COUNTER_SHARDS);
  return (await outboxTally.read(ctx, destination)).failed + old.reduce((sum, shard) => sum + shard.count, 0);
}
