import type { QueryCtx } from "../../_generated/server";

/*
 * What a piece of work may cost at most, against what the transaction has
 * left of Convex's limits (ctx.meta.getTransactionMetrics): work that does
 * not fit is left to a later transaction, so that no crowd of rows, however
 * large their documents, can push one transaction past a limit. The apply
 * engine's costs are in model/effects/budget.ts, batch jobs' walk in
 * batches.ts.
 */

/** What ctx.meta.getTransactionMetrics answers. */
export type TransactionMetrics = Awaited<ReturnType<QueryCtx["meta"]["getTransactionMetrics"]>>;

/** Convex's per-transaction measures this service budgets. */
export type Budget = {
  bytesRead: number;
  bytesWritten: number;
  documentsRead: number;
  documentsWritten: number;
  databaseQueries: number;
};

const KiB = 1024;

/** What a transaction's own bookkeeping takes (recording a delivery, a batch's cursor and log), kept back from every piece of its work. */
const RESERVE: Budget = {
  bytesRead: 512 * KiB,
  bytesWritten: 256 * KiB,
  documentsRead: 64,
  documentsWritten: 32,
  databaseQueries: 32,
};

export function budget(partial: Partial<Budget>): Budget {
  return { bytesRead: 0, bytesWritten: 0, documentsRead: 0, documentsWritten: 0, databaseQueries: 0, ...partial };
}

/**
 * How many pieces of work costing `each` still fit the transaction after
 * `first` (paid once) and the reserve; 0 when not even `first` fits.
 */
export async function roomFor(ctx: { meta: QueryCtx["meta"] }, each: Budget, first: Budget = budget({})): Promise<number> {
  return roomWithin(await ctx.meta.getTransactionMetrics(), each, first);
}

/** roomFor, given the transaction's metrics as just read. */
export function roomWithin(metrics: TransactionMetrics, each: Budget, first: Budget = budget({})): number {
  let room = Number.POSITIVE_INFINITY;
  for (const key of Object.keys(each) as (keyof Budget)[]) {
    const left = metrics[key].remaining - RESERVE[key] - first[key];
    if (left < 0) {
      return 0;
    }
    if (each[key] > 0) {
      room = Math.min(room, Math.floor(left / each[key]));
    }
  }
  return room;
}

/** Whether work costing `cost` fits what the transaction has left, with the reserve kept. */
export async function fits(ctx: { meta: QueryCtx["meta"] }, cost: Budget): Promise<boolean> {
  return (await roomFor(ctx, budget({}), cost)) > 0;
}
