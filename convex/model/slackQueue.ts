import type { Doc } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";

/*
 * Reading a Slack channel's queue (slack_outbox, through its lane): which
 * row outbox/send.ts sends next.
 */

/** The lane's row being sent, if a run left one. */
export async function rowBeingSent(ctx: MutationCtx, lane: Doc<"slack_lanes">) {
  return await ctx.db
    .query("slack_outbox")
    .withIndex("by_team_channel_status_kind", (q) => q.eq("team", lane.team).eq("channel", lane.channel).eq("status", "sending"))
    .first();
}

/** The lane's oldest queued row of a kind that shows in the thread. */
async function oldestQueued(ctx: MutationCtx, lane: Doc<"slack_lanes">, kind: "reply" | "card") {
  return await ctx.db
    .query("slack_outbox")
    .withIndex("by_team_channel_status_kind", (q) =>
      q.eq("team", lane.team).eq("channel", lane.channel).eq("status", "queued").eq("request.kind", kind),
    )
    .first();
}

/** The lane's queued ephemeral answer due soonest. */
async function soonestEphemeral(ctx: MutationCtx, lane: Doc<"slack_lanes">) {
  return await ctx.db
    .query("slack_outbox")
    .withIndex("by_team_channel_kind_status_nextAttemptAt", (q) =>
      q.eq("team", lane.team).eq("channel", lane.channel).eq("request.kind", "ephemeral").eq("status", "queued"),
    )
    .first();
}

const dueAt = (row: Doc<"slack_outbox">) => row.nextAttemptAt ?? 0;

/**
 * The row the lane sends next: of the oldest queued reply or card (the
 * thread's order: while it waits, the others behind it wait too) and the
 * ephemeral answer due soonest, the one that is due, the older if both are;
 * else when the first of them is due; null when nothing is queued.
 */
export async function nextRow(ctx: MutationCtx, lane: Doc<"slack_lanes">, now: number): Promise<{ row: Doc<"slack_outbox"> } | { wakeAt: number } | null> {
  const [reply, card] = [await oldestQueued(ctx, lane, "reply"), await oldestQueued(ctx, lane, "card")];
  const visible = reply === null || (card !== null && card._creationTime < reply._creationTime) ? card : reply;
  const heads = [visible, await soonestEphemeral(ctx, lane)].filter((row) => row !== null);
  if (heads.length === 0) {
    return null;
  }
  const [due] = heads.filter((row) => dueAt(row) <= now).sort((a, b) => a._creationTime - b._creationTime);
  return due === undefined ? { wakeAt: Math.min(...heads.map(dueAt)) } : { row: due };
}
