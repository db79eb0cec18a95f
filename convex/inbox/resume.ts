import { v } from "convex/values";
import { internal } from "../_generated/api";
import { internalMutation } from "../_generated/server";
import { vBatchCursor, walkBatch } from "../model/platform/batches";
import { transactionCost } from "../model/platform/cost";
import { REQUEUE_DELIVERY_COST, scheduleProcessing, updateDelivery } from "../model/inbox/deliveries";
import { isHeld, processingPaused } from "../model/inbox/pauses";
import { vSource } from "../model/platform/validators";

/*
 * Resuming a paused source (docs/operations.md#pausing-a-source): its held
 * deliveries are scheduled in the order they were received, a batch per
 * transaction (at most RESUME_BATCH, within 8 MiB read), each batch a
 * second after the one before, so that a long pause does not start every
 * delivery at once.
 */

const RESUME_BATCH = 100;
const BATCH_SPACING_MS = 1_000;

/** Schedules a batch of the source's held deliveries, oldest first, and the next batch; stops if the source is paused again. */
export const resumeHeld = internalMutation({
  args: { source: vSource, cursor: v.union(vBatchCursor, v.null()) },
  returns: v.number(),
  handler: async (ctx, { source, cursor }) => {
    if (await processingPaused(ctx, source)) {
      return 0;
    }
    let scheduled = 0;
    const walk = await walkBatch(
      ctx,
      { table: "webhook_deliveries", index: "by_source_status_receivedAt", from: [source, "accepted"], to: [source, "accepted"], toInclusive: true, after: cursor },
      { maxRows: RESUME_BATCH, rowCost: REQUEUE_DELIVERY_COST, firstAlways: true },
      async (delivery) => {
        if (!isHeld(delivery)) {
          return;
        }
        const scheduledRunId = await scheduleProcessing(ctx, delivery);
        await updateDelivery(ctx, delivery, { nextAttemptAt: Date.now(), scheduledRunId });
        scheduled += 1;
      },
    );
    if (walk.done > 0) {
      console.log(`inbox: resumed ${scheduled} held ${source} deliveries of ${walk.done} looked at in one transaction ${JSON.stringify(await transactionCost(ctx))}`);
    }
    if (!walk.finished) {
      await ctx.scheduler.runAfter(BATCH_SPACING_MS, internal.inbox.resume.resumeHeld, { source, cursor: walk.after });
    }
    return scheduled;
  },
});
