import { ConvexError, v } from "convex/values";
import type { Id } from "./_generated/dataModel";
import { internalMutation, internalQuery } from "./_generated/server";
import { pageSize } from "../src/pageSize";
import { requeue } from "./outbox/enqueue";
import { walkBatch, type BatchRange } from "./model/platform/batches";
import { OUTBOX_ROW_BYTES, OUTBOX_ROW_COST } from "./outbox/maintenance";
import { outboxCounts } from "./outbox/rows";
import { vOutboxStatus } from "./outbox/tables";

/**
 * Operating the outbox, for every destination (docs/operations.md): see it
 * at a glance, replay failed rows. Queuing is convex/outbox/enqueue.ts,
 * sending each destination's runner (convex/outbox/runner.ts), the crons
 * convex/outbox/maintenance.ts.
 *
 * ```sh
 * npx convex run outbox:status                                  # rows by destination and status, the latest failures
 * npx convex run outbox:status '{"destination": "slack", "failures": 50}'
 * npx convex run outbox:replay '{"rowId": "<id>"}'              # send a failed row again
 * npx convex run outbox:replayFailed '{"destination": "slack", "limit": 20}'
 * ```
 */

const BATCH = 100;

const vFailure = v.object({
  rowId: v.id("outbox"),
  destination: v.string(),
  lane: v.string(),
  kind: v.string(),
  method: v.optional(v.string()),
  attempts: v.number(),
  error: v.optional(v.string()),
  httpStatus: v.optional(v.number()),
  finishedAt: v.optional(v.number()),
});


/** Operators: the outbox at a glance: rows by destination and status, and the latest failures (of one destination, if named). */
export const status = internalQuery({
  args: { destination: v.optional(v.string()), failures: v.optional(v.number()) },
  returns: v.object({
    counts: v.array(v.object({ destination: v.string(), status: vOutboxStatus, count: v.number() })),
    recentFailures: v.array(vFailure),
  }),
  handler: async (ctx, { destination, failures }) => {
    const failed =
      destination === undefined
        ? ctx.db.query("outbox").withIndex("by_status_finishedAt", (q) => q.eq("status", "failed"))
        : ctx.db.query("outbox").withIndex("by_destination_status_finishedAt", (q) => q.eq("destination", destination).eq("status", "failed"));
    const recent = await failed.order("desc").take(pageSize(failures, { fallback: 20, max: BATCH }));
    return {
      counts: await outboxCounts(ctx),
      recentFailures: recent.map((row) => ({
        rowId: row._id,
        destination: row.destination,
        lane: row.lane,
        kind: String((row.request as { kind?: unknown }).kind),
        method: row.method,
        attempts: row.attempts,
        error: row.error,
        httpStatus: row.httpStatus,
        finishedAt: row.finishedAt,
      })),
    };
  },
});

/**
 * Operators: sends a failed row again, with a fresh set of attempts, in its
 * place in its lane's order, once what made it fail is fixed (the bot
 * invited to the channel, a new token). Only a failed row: a sent one would
 * be sent twice.
 */
export const replay = internalMutation({
  args: { rowId: v.id("outbox") },
  returns: v.object({ rowId: v.id("outbox"), previousError: v.optional(v.string()) }),
  handler: async (ctx, { rowId }) => {
    const row = await ctx.db.get("outbox", rowId);
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

/**
 * Operators: replays the oldest failed rows (of one destination, if named):
 * `limit` of them (default and at most 100), fewer when they are large (a
 * transaction reads at most 8 MiB: run it again for the rest).
 */
export const replayFailed = internalMutation({
  args: { destination: v.optional(v.string()), limit: v.optional(v.number()) },
  returns: v.array(v.id("outbox")),
  handler: async (ctx, { destination, limit }) => {
    const failed: BatchRange<"outbox"> =
      destination === undefined
        ? { table: "outbox", index: "by_status_finishedAt", from: ["failed"], to: ["failed"], toInclusive: true, after: null }
        : { table: "outbox", index: "by_destination_status_finishedAt", from: [destination, "failed"], to: [destination, "failed"], toInclusive: true, after: null };
    const replayed: Id<"outbox">[] = [];
    await walkBatch(
      ctx,
      failed,
      { maxRows: pageSize(limit, { fallback: BATCH, max: BATCH }), rowCost: OUTBOX_ROW_COST, rowBytes: OUTBOX_ROW_BYTES, firstAlways: true },
      async (row) => {
        await requeue(ctx, row);
        replayed.push(row._id);
      },
    );
    return replayed;
  },
});
