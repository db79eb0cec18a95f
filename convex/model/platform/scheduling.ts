import type { DocumentByName, SystemDataModel } from "convex/server";
import type { Id } from "../../_generated/dataModel";
import type { QueryCtx } from "../../_generated/server";

export type ScheduledRun = DocumentByName<SystemDataModel, "_scheduled_functions">;

/*
 * Scheduled runs as Convex's scheduler records them (`_scheduled_functions`):
 * what the inbox, the outbox's runners and the reconciler's chains read to
 * know whether a run they scheduled may still happen.
 */

/** Whether the run is still to start or running: it may yet do its work. */
export function isLive(run: ScheduledRun): boolean {
  return run.state.kind === "pending" || run.state.kind === "inProgress";
}

/** The scheduled run, while it is still to start or running; null once it is over (or was never recorded). */
export async function liveRun(ctx: QueryCtx, runId: Id<"_scheduled_functions"> | undefined) {
  const run = runId === undefined ? null : await ctx.db.system.get("_scheduled_functions", runId);
  return run !== null && isLive(run) ? run : null;
}
