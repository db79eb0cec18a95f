import type { QueryCtx } from "../_generated/server";

/** What the current transaction has read and written so far (ctx.meta.getTransactionMetrics). */
export async function transactionCost(ctx: { meta: QueryCtx["meta"] }) {
  const metrics = await ctx.meta.getTransactionMetrics();
  return {
    documentsRead: metrics.documentsRead.used,
    documentsWritten: metrics.documentsWritten.used,
    bytesRead: metrics.bytesRead.used,
    bytesWritten: metrics.bytesWritten.used,
  };
}
