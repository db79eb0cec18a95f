import type { DocumentByName, SystemDataModel } from "convex/server";
import type { Id } from "../../_generated/dataModel";
import type { QueryCtx } from "../../_generated/server";

export type ScheduledRun = DocumentByName<SystemDataModel, "_scheduled_functions">;

/*
 * Scheduled runs as Convex's scheduler records them (`_scheduled_functions`):
 * what the inbox, the outbox's runners and the reconciler's chains read to
 * know whether a run they scheduled may still happen, and what both
 * recoveries (inbox/maintenance.ts, outbox/maintenance.ts) share: when a run
 * counts as lost, and how it ended.
 */

/** A run due this long ago that is neither pending nor running is lost: its work is taken up again. */
export const LOST_AFTER_MS = 10 * 60 * 1000;

/** Whether the run is still to start or running: it may yet do its work. */
export function isLive(run: ScheduledRun): boolean {
  return run.state.kind === "pending" || run.state.kind === "inProgress";
}

/** The scheduled run, while it is still to start or running; null once it is over (or was never recorded). */
export async function liveRun(ctx: QueryCtx, runId: Id<"_scheduled_functions"> | undefined) {
  const run = runId === undefined ? null : await ctx.db.system.get("_scheduled_functions", runId);
  return run !== null && isLive(run) ? run : null;
}

/**
 * How a run that is no longer live ended, in words, for the record of the
 * work it left undone; `owner` names what schedules it ("the inbox").
 */
export async function howRunEnded(ctx: QueryCtx, runId: Id<"_scheduled_functions"> | undefined, owner: string): Promise<string> {
  const run = runId === undefined ? null : await ctx.db.system.get("_scheduled_functions", runId);
  if (run === null) {
    return "its scheduled run is gone";
  }
  const { state } = run;
  if (state.kind === "failed") {
    return `its run failed outside ${owner}'s handling${state.error ? `: ${state.error}` : ""}`;
  }
  return state.kind === "canceled" ? "its run was canceled" : "its run ended without recording an outcome";
}
