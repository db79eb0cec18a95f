import { internal } from "../../../convex/_generated/api";
import type { Backend } from "../backend";

/** The outbox as tests read it: its rows, and the counts by status operators see. */

/** Every outbox row, or a destination's, in the order they were queued. */
export async function outboxRows(t: Backend, destination?: string) {
  const rows = await t.run(async (ctx) => await ctx.db.query("outbox").collect());
  return destination === undefined ? rows : rows.filter((row) => row.destination === destination);
}

/** A destination's rows by status, as operators see them (internal.outbox.status). */
export async function outboxCounts(t: Backend, destination: string) {
  const { counts } = await t.query(internal.outbox.status, {});
  return Object.fromEntries(counts.filter((count) => count.destination === destination).map(({ status, count }) => [status, count]));
}
