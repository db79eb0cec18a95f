import { ConvexError, v } from "convex/values";
import type { Doc, Id } from "./_generated/dataModel";
import { internalMutation, internalQuery, type MutationCtx } from "./_generated/server";
import { cardRowRequeued, outboxCounts, updateOutboxRow, wakeLane } from "./model/slackOutbox";
import { vOutboxStatus } from "./model/slackValidators";
import { pageSize } from "../src/pageSize";

/*
 * Operating the Slack outbox (docs/contract.md section 4, outbound): see it
 * at a glance, replay failed rows. Sending is in outbox/send.ts, the crons
 * in outbox/maintenance.ts.
 */

const BATCH = 100;

const vFailure = v.object({
  rowId: v.id("slack_outbox"),
  kind: v.union(v.literal("reply"), v.literal("card"), v.literal("ephemeral")),
  team: v.string(),
  channel: v.string(),
  method: v.optional(v.string()),
  attempts: v.number(),
  error: v.optional(v.string()),
  finishedAt: v.optional(v.number()),
});

/** Operators: the outbox at a glance (`npx convex run slackOutbox:status`): rows by status, the latest failures. */
export const status = internalQuery({
  args: { failures: v.optional(v.number()) },
  returns: v.object({ counts: v.array(v.object({ status: vOutboxStatus, count: v.number() })), recentFailures: v.array(vFailure) }),
  handler: async (ctx, { failures }) => {
    const recent = await ctx.db
      .query("slack_outbox")
      .withIndex("by_status_finishedAt", (q) => q.eq("status", "failed"))
      .order("desc")
      .take(pageSize(failures, { fallback: 20, max: BATCH }));
    return {
      counts: await outboxCounts(ctx),
      recentFailures: recent.map((row) => ({
        rowId: row._id,
        kind: row.request.kind,
        team: row.team,
        channel: row.channel,
        method: row.method,
        attempts: row.attempts,
        error: row.error,
        finishedAt: row.finishedAt,
      })),
    };
  },
});

/** Queues a failed row again with a fresh set of attempts. */
async function requeue(ctx: MutationCtx, row: Doc<"slack_outbox">) {
  await updateOutboxRow(ctx, row, { status: "queued", attempts: 0, nextAttemptAt: Date.now(), finishedAt: undefined });
  await cardRowRequeued(ctx, row);
  await wakeLane(ctx, row);
}

/**
 * Operators: sends a failed row again (`npx convex run slackOutbox:replay
 * '{"rowId": "..."}'`), after what made it fail is fixed (the bot invited
 * to the channel, a new token). Only a failed row: a sent one would be
 * posted twice.
 */
export const replay = internalMutation({
  args: { rowId: v.id("slack_outbox") },
  returns: v.object({ rowId: v.id("slack_outbox"), previousError: v.optional(v.string()) }),
  handler: async (ctx, { rowId }) => {
    const row = await ctx.db.get("slack_outbox", rowId);
    if (row === null) {
      throw new ConvexError({ code: "NOT_FOUND", message: `Outbox row ${rowId} does not exist (purged?).` });
    }
    if (row.status !== "failed") {
      throw new ConvexError({
        code: "INVALID_ARGUMENT",
        message: `Outbox row ${rowId} is ${row.status}; only a failed row is replayed.`,
      });
    }
    await requeue(ctx, row);
    return { rowId, previousError: row.error };
  },
});

/** Operators: replays the oldest failed rows (`npx convex run slackOutbox:replayFailed '{"limit": 20}'`). */
export const replayFailed = internalMutation({
  args: { limit: v.optional(v.number()) },
  returns: v.array(v.id("slack_outbox")),
  handler: async (ctx, { limit }) => {
    const failed = await ctx.db
      .query("slack_outbox")
      .withIndex("by_status_finishedAt", (q) => q.eq("status", "failed"))
      .take(pageSize(limit, { fallback: BATCH, max: BATCH }));
    for (const row of failed) {
      await requeue(ctx, row);
    }
    return failed.map((row): Id<"slack_outbox"> => row._id);
  },
});
