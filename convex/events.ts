import { paginationOptsValidator, paginationResultValidator } from "convex/server";
import { v } from "convex/values";
import { internal } from "./_generated/api";
import { internalMutation } from "./_generated/server";
import { vEventType } from "./model/events/tables";
import { eventOfRow } from "./model/events/record";
import { walkBatch } from "./model/platform/batches";
import { budget } from "./model/platform/budget";
import { callerQuery, notAServiceHint } from "./model/platform/callers";
import { deliveryRetentionMs } from "./model/platform/config";
import { transactionCost } from "./model/platform/cost";
import { invalidArgument } from "./model/platform/errors";
import { pageOf } from "./model/platform/pages";

/**
 * Events out, to read (docs/server.md#reading-events-by-subscription): the
 * events this deployment keeps, in the order they were written, for
 * services only. Each item is `{ id, event }`, as the service client's
 * verifier gives a request's (`id` is the request's webhook-id too);
 * `parseEvent(item.event)` types it.
 *
 *   const page = await jangar.convex.query(api.events.list, { paginationOpts: { numItems: 100, cursor } });
 *   client.onUpdate(api.events.list, { paginationOpts: { numItems: 100, cursor } }, ({ page, isDone, continueCursor }) => ...);
 */

// `data` is the type's (EVENT_DATA); `metadata` in it is any value, which a validator cannot type.
const vListedEvent = v.object({ id: v.id("events"), event: v.object({ type: vEventType, timestamp: v.string(), data: v.any() }) });

/** A page of events, oldest first: every session's, or one session's (`sessionId`). */
export const list = callerQuery({
  args: { paginationOpts: paginationOptsValidator, sessionId: v.optional(v.id("chat_sessions")) },
  returns: paginationResultValidator(vListedEvent),
  handler: async (ctx, { paginationOpts, sessionId }) => {
    if (ctx.caller.kind !== "service") {
      throw invalidArgument(`events:list is for services only: a user reads its own sessions' messages and orders. ${notAServiceHint(ctx.caller)}`);
    }
    const range =
      sessionId === undefined
        ? ctx.db.query("events").withIndex("by_creation_time")
        : ctx.db.query("events").withIndex("by_sessionId", (q) => q.eq("sessionId", sessionId));
    const result = await pageOf(range, "asc", paginationOpts);
    return { ...result, page: result.page.map((row) => ({ id: row._id, event: eventOfRow(row) })) };
  },
});

const PURGE_BATCH = 500;
// The largest event: a message of 256 KiB with 64 KiB of metadata, and its ids.
const EVENT_ROW_BYTES = 330 * 1024;

/** Cron: deletes events written longer than DELIVERY_RETENTION_DAYS ago (events are kept as long as deliveries), a batch per run. */
export const purgeExpired = internalMutation({
  args: {},
  returns: v.number(),
  handler: async (ctx) => {
    // Purged rows are gone: every transaction starts from the oldest left.
    const walk = await walkBatch(
      ctx,
      { table: "events", index: "by_creation_time", from: [], to: [Date.now() - deliveryRetentionMs()], toInclusive: false, after: null },
      { maxRows: PURGE_BATCH, rowCost: budget({ bytesRead: EVENT_ROW_BYTES, bytesWritten: EVENT_ROW_BYTES, documentsRead: 1, documentsWritten: 1 }), firstAlways: true },
      async (row) => await ctx.db.delete("events", row._id),
    );
    if (walk.done > 0) {
      console.log(`events: purged ${walk.done} event(s) in one transaction ${JSON.stringify(await transactionCost(ctx))}`);
    }
    if (!walk.finished) {
      await ctx.scheduler.runAfter(0, internal.events.purgeExpired, {});
    }
    return walk.done;
  },
});
