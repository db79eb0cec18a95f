import { makeFunctionReference } from "convex/server";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { liveRun } from "../model/platform/scheduling";

/*
 * Lanes: one request at a time per (destination, lane key), by one runner,
 * a chain of the destination's sendNext runs (convex/outbox/runner.ts). What
 * the runner sends next, and how a lane's runner is started, moved and found.
 */

/** Where a destination's runner functions are: its adapter's module, convex/outbox/destinations/<destination>.ts. */
export function runnerPath(destination: string, name: "claimNext" | "recordOutcome" | "sendNext"): string {
  return `outbox/destinations/${destination}:${name}`;
}

/** A destination's runner: the lanes find it by the destination's name. */
function runnerOf(destination: string) {
  return makeFunctionReference<"action", { laneId: Id<"outbox_lanes"> }, null>(runnerPath(destination, "sendNext"));
}

export async function laneOf(ctx: QueryCtx, destination: string, lane: string) {
  return await ctx.db
    .query("outbox_lanes")
    .withIndex("by_destination_lane", (q) => q.eq("destination", destination).eq("lane", lane))
    .unique();
}

/** Makes the lane's one runner the one scheduled now, `delayMs` from now. */
export async function scheduleLane(ctx: MutationCtx, lane: Doc<"outbox_lanes">, delayMs: number, change: { readyAt?: number } = {}) {
  const runner = await ctx.scheduler.runAfter(delayMs, runnerOf(lane.destination), { laneId: lane._id });
  await ctx.db.patch("outbox_lanes", lane._id, { ...change, runner, runAt: Date.now() + delayMs });
}

/**
 * Makes sure the lane's runner will reach rows just queued: a runner still
 * to run or running does (it stops only in a transaction that sees no row
 * left), otherwise one is started as soon as the destination's pace allows.
 * A runner waiting beyond that (for a row's retry) is brought forward, since
 * the new row may not have to wait for that one (an unordered row never does).
 */
export async function wakeLane(ctx: MutationCtx, destination: string, laneKey: string) {
  const lane = await laneOf(ctx, destination, laneKey);
  const now = Date.now();
  const ready = Math.max(now, lane?.readyAt ?? 0);
  const run = lane === null ? null : await liveRun(ctx, lane.runner);
  if (lane !== null && run !== null) {
    if (run.state.kind === "pending" && (lane.runAt ?? 0) > ready) {
      await ctx.scheduler.cancel(run._id);
      await scheduleLane(ctx, lane, ready - now);
    }
    return;
  }
  const laneId = lane?._id ?? (await ctx.db.insert("outbox_lanes", { destination, lane: laneKey }));
  await scheduleLane(ctx, (await ctx.db.get("outbox_lanes", laneId))!, ready - now);
}

/** The lane's row being sent, if a run left one. */
export async function rowBeingSent(ctx: QueryCtx, lane: Doc<"outbox_lanes">) {
  return await ctx.db
    .query("outbox")
    .withIndex("by_destination_lane_status_ordered_enqueuedAt", (q) =>
      q.eq("destination", lane.destination).eq("lane", lane.lane).eq("status", "sending"),
    )
    .first();
}

const dueAt = (row: Doc<"outbox">) => row.nextAttemptAt ?? 0;
const queuedFirst = (a: Doc<"outbox">, b: Doc<"outbox">) => a.enqueuedAt - b.enqueuedAt || a._creationTime - b._creationTime;

/**
 * The row the lane sends next: of its oldest queued ordered row (while it
 * waits for its retry, the ordered rows behind it wait too) and its
 * unordered row due soonest, the one that is due, the one queued first if
 * both are; else when the first of them is due; null when nothing is queued.
 */
export async function nextRow(ctx: QueryCtx, lane: Doc<"outbox_lanes">, now: number): Promise<{ row: Doc<"outbox"> } | { wakeAt: number } | null> {
  const { destination } = lane;
  const ordered = await ctx.db
    .query("outbox")
    .withIndex("by_destination_lane_status_ordered_enqueuedAt", (q) =>
      q.eq("destination", destination).eq("lane", lane.lane).eq("status", "queued").eq("ordered", true),
    )
    .first();
  const unordered = await ctx.db
    .query("outbox")
    .withIndex("by_destination_lane_ordered_status_nextAttemptAt", (q) =>
      q.eq("destination", destination).eq("lane", lane.lane).eq("ordered", false).eq("status", "queued"),
    )
    .first();
  const heads = [ordered, unordered].filter((row) => row !== null);
  if (heads.length === 0) {
    return null;
  }
  const [due] = heads.filter((row) => dueAt(row) <= now).sort(queuedFirst);
  return due === undefined ? { wakeAt: Math.min(...heads.map(dueAt)) } : { row: due };
}
