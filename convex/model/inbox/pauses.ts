import type { Doc } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../_generated/server";
import type { SourceName } from "../../../src/sources/source";
import { updateDelivery } from "./deliveries";

/*
 * Pausing a source's processing (docs/operations.md#pausing-a-source): while
 * a source is paused its deliveries are still verified, stored and answered
 * 200, but held: `accepted`, with no run and no `nextAttemptAt`, so that
 * neither a run nor the recovery cron starts them. Every path that starts
 * processing asks `processingPaused` first (one point read, no write: many
 * deliveries may ask at once). `ingest:resume` schedules the held ones.
 */

/** The pause of a source, if it is paused. */
export async function pauseOf(ctx: QueryCtx, source: SourceName) {
  return await ctx.db
    .query("inbox_pauses")
    .withIndex("by_source", (q) => q.eq("source", source))
    .unique();
}

/** Whether processing of the source's deliveries is paused by an operator. */
export async function processingPaused(ctx: QueryCtx, source: SourceName): Promise<boolean> {
  return (await pauseOf(ctx, source)) !== null;
}

/** Whether a delivery waits for its source to be resumed: accepted, with no attempt due. */
export function isHeld(delivery: Doc<"webhook_deliveries">): boolean {
  return delivery.status === "accepted" && delivery.nextAttemptAt === undefined;
}

/**
 * Holds a delivery whose run starts while its source is paused (a retry or
 * a continuation scheduled before the pause): it keeps its attempts and
 * progress, and waits for the resume.
 */
export async function hold(ctx: MutationCtx, delivery: Doc<"webhook_deliveries">) {
  await updateDelivery(ctx, delivery, { status: "accepted", nextAttemptAt: undefined, scheduledRunId: undefined, finishedAt: undefined });
}
