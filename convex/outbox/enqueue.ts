import { validate } from "convex-helpers/validators";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import type { OutboxHandle, OutboxRequest } from "./destination";
import { wakeLane } from "./lanes";
import { countRows, updateRow } from "./rows";

/*
 * Queuing requests to another service: the one way in to the outbox, called
 * in the transaction that makes the fact to tell (an assistant's reply, a
 * card's change), so that a request is queued exactly when its fact is
 * written. The lane's runner sends it afterwards.
 */

export type NewRow<Request extends OutboxRequest> = {
  request: Request;
  /** Not part of the lane's order: sent when due, behind no other row (Slack's ephemeral answers). */
  unordered?: true;
};

/**
 * Queues requests to a destination's lane, in this order, after the ordered
 * rows queued to the lane before. A request that does not match the
 * destination's validator is a bug of the caller: it throws, and the
 * caller's transaction writes nothing.
 */
export async function enqueue<Request extends OutboxRequest>(
  ctx: MutationCtx,
  handle: OutboxHandle<Request>,
  lane: string,
  rows: NewRow<Request>[],
): Promise<Id<"outbox">[]> {
  const { destination } = handle;
  const now = Date.now();
  const rowIds = [];
  for (const { request, unordered } of rows) {
    validate(handle.request, request, { throw: true, db: ctx.db });
    rowIds.push(
      await ctx.db.insert("outbox", {
        destination,
        lane,
        ordered: unordered !== true,
        enqueuedAt: now,
        request,
        status: "queued",
        attempts: 0,
        nextAttemptAt: now,
      }),
    );
  }
  if (rowIds.length > 0) {
    await countRows(ctx, destination, { queued: rowIds.length });
    await wakeLane(ctx, destination, lane);
  }
  return rowIds;
}

/** Queues a failed row again with a fresh set of attempts (an operator's replay), in its old place in its lane's order. */
export async function requeue(ctx: MutationCtx, row: Doc<"outbox">) {
  await updateRow(ctx, row, {
    status: "queued",
    attempts: 0,
    firstAttemptAt: undefined,
    nextAttemptAt: Date.now(),
    finishedAt: undefined,
  });
  await wakeLane(ctx, row.destination, row.lane);
}
