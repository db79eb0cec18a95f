import { streamQuery, type IndexKey } from "convex-helpers/server/pagination";
import type { IndexNames, NamedTableInfo } from "convex/server";
import { v, type Infer } from "convex/values";
import type { DataModel, Doc, TableNames } from "../../_generated/dataModel";
import type { QueryCtx } from "../../_generated/server";
import schema from "../../schema";
import { budget, roomWithin, type Budget } from "./budget";

/**
 * Batch jobs (the reconciler, retention, recovery, replays, migrations)
 * read at most BATCH_READ_BYTES per transaction, whatever their rows' sizes,
 * and go on in the next (docs/contract.md#5-reconciliation-and-temporal). A job walks
 * an index range a row at a time: before each row the transaction's
 * metrics (ctx.meta.getTransactionMetrics) say whether the most that row's
 * work can cost still fits, and the walk stops there if not. It ends at
 * the index key of the last row done, which the next transaction starts
 * after (convex-helpers' streamQuery reads from it).
 *
 *   const walk = await walkBatch(
 *     ctx,
 *     { table: "work_orders", index: "by_status_updatedAt", from: ["running"], to: ["running", cutoff], after },
 *     { maxRows: 100, rowCost: STATUS_CHANGE_COST },
 *     async (order) => await changeStatus(ctx, order, byReconciler("failed", "stale")),
 *   );
 *   if (!walk.finished) await ctx.scheduler.runAfter(0, next, { after: walk.after });
 */

export const BATCH_READ_BYTES = 8 * 1024 * 1024;

/** Where a walk stopped: the index key of the last row it did (the strings and numbers this service's indexes hold). */
export const vBatchCursor = v.array(v.union(v.string(), v.number()));
export type BatchCursor = Infer<typeof vBatchCursor>;

/**
 * An index range: the rows from `from` (inclusive) to `to` (inclusive or
 * not), keys and their prefixes given field by field in the index's order;
 * past `after` when a walk continues.
 */
export type BatchRange<T extends TableNames> = {
  table: T;
  index: IndexNames<NamedTableInfo<DataModel, T>>;
  from: BatchCursor;
  to: BatchCursor;
  toInclusive?: boolean;
  after: BatchCursor | null;
};

export type BatchLimits = {
  maxRows: number;
  /** The most one row's work may cost (reading the row included), checked against Convex's limits. */
  rowCost: Budget;
  /** What of it counts against BATCH_READ_BYTES; rowCost's bytesRead unless said. */
  rowBytes?: number;
  /** Whether the first row is taken whatever is left: a walk that is the transaction's only work must move. */
  firstAlways?: boolean;
};

export type Walk = { after: BatchCursor | null; finished: boolean; done: number };

/** Whether one more row costing `cost`, reading `bytes` of the batch's budget, fits the transaction. */
export async function batchFits(ctx: Pick<QueryCtx, "meta">, cost: Budget, bytes = cost.bytesRead): Promise<boolean> {
  const metrics = await ctx.meta.getTransactionMetrics();
  return metrics.bytesRead.used + bytes <= BATCH_READ_BYTES && roomWithin(metrics, budget({}), cost) > 0;
}

function cursorOf(key: IndexKey): BatchCursor {
  return key.map((part) => {
    if (typeof part !== "string" && typeof part !== "number") {
      throw new TypeError(`An index key part of type ${typeof part} cannot be a batch's cursor.`);
    }
    return part;
  });
}

/** Runs `each` on the range's rows in index order, as many as fit this transaction (see above). */
export async function walkBatch<T extends TableNames>(
  ctx: QueryCtx,
  range: BatchRange<T>,
  limits: BatchLimits,
  each: (row: Doc<T>) => Promise<void>,
): Promise<Walk> {
  const rows = streamQuery<DataModel, T>(ctx, {
    table: range.table,
    index: range.index,
    schema,
    startIndexKey: range.after ?? range.from,
    startInclusive: range.after === null,
    endIndexKey: range.to,
    endInclusive: range.toInclusive ?? false,
  })[Symbol.asyncIterator]();
  const walk: Walk = { after: range.after, finished: false, done: 0 };
  while (walk.done < limits.maxRows) {
    const first = walk.done === 0 && limits.firstAlways === true;
    if (!first && !(await batchFits(ctx, limits.rowCost, limits.rowBytes))) {
      break;
    }
    const next = await rows.next();
    if (next.done === true) {
      walk.finished = true;
      break;
    }
    const [row, key] = next.value;
    await each(row);
    walk.after = cursorOf(key);
    walk.done += 1;
  }
  await rows.return?.(undefined);
  return walk;
}
