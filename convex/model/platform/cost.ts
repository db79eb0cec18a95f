import { v, type Infer } from "convex/values";
import type { QueryCtx } from "../../_generated/server";
import { setting } from "./config";

/** What a transaction read and wrote (ctx.meta.getTransactionMetrics). */
export const vTransactionCost = v.object({
  documentsRead: v.number(),
  documentsWritten: v.number(),
  bytesRead: v.number(),
  bytesWritten: v.number(),
});
export type Cost = Infer<typeof vTransactionCost>;

export const NO_COST: Cost = { documentsRead: 0, documentsWritten: 0, bytesRead: 0, bytesWritten: 0 };

/** What the current transaction has read and written so far (ctx.meta.getTransactionMetrics). */
export async function transactionCost(ctx: { meta: QueryCtx["meta"] }): Promise<Cost> {
  const metrics = await ctx.meta.getTransactionMetrics();
  return {
    documentsRead: metrics.documentsRead.used,
    documentsWritten: metrics.documentsWritten.used,
    bytesRead: metrics.bytesRead.used,
    bytesWritten: metrics.bytesWritten.used,
  };
}

export function addCosts(a: Cost, b: Cost): Cost {
  return {
    documentsRead: a.documentsRead + b.documentsRead,
    documentsWritten: a.documentsWritten + b.documentsWritten,
    bytesRead: a.bytesRead + b.bytesRead,
    bytesWritten: a.bytesWritten + b.bytesWritten,
  };
}

/**
 * With JANGAR_LOG_COST set, logs what the whole transaction read and wrote
 * (`cost {...}`, or `cost <what> {...}`); called as its last step, this is
 * how `npm run bench` measures public functions and deliveries.
 */
export async function logCost(ctx: { meta: QueryCtx["meta"] }, what?: string) {
  if (setting("JANGAR_LOG_COST") !== undefined) {
    console.log(`cost ${what === undefined ? "" : `${what} `}${JSON.stringify(await transactionCost(ctx))}`);
  }
}
