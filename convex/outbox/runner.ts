import { makeFunctionReference } from "convex/server";
import { v, type Value } from "convex/values";
import type { Doc, Id } from "../_generated/dataModel";
import { internalAction, internalMutation, type MutationCtx } from "../_generated/server";
import { LIMITS } from "../../src/limits";
import { nextAttempt, retryDelayMs, type RetryPolicy } from "../../src/retry";
import { truncate } from "../../src/text";
import { noticeOutboxFailed } from "../model/alerts/notice";
import { setting } from "../model/platform/config";
import { transactionCost } from "../model/platform/cost";
import { vAnswer, type Answer, type Destination, type OutboxRequest, type OutboxRow } from "./destination";
import { nextRow, rowBeingSent, runnerPath, scheduleLane } from "./lanes";
import { updateRow } from "./rows";

/*
 * A lane's runner, the same for every destination: a chain of sendNext
 * runs, each claiming the lane's next row (claimNext), making its one
 * request (the adapter's `send`), recording the answer (recordOutcome) and
 * scheduling the next run after the destination's pace. A row that must
 * wait (Retry-After, backoff) holds the lane's later ordered rows back; an
 * unordered row goes out when due. A row refused for good ends `failed` and
 * the lane goes on. Each adapter module exports its own three functions:
 *
 *     export const { claimNext, recordOutcome, sendNext } = outboxRunner(slack);
 */

/** With JANGAR_LOG_COST set, what this transaction read and wrote (how `npm run bench` measures the outbox). */
async function logCost(ctx: MutationCtx, destination: string, step: string) {
  if (setting("JANGAR_LOG_COST") !== undefined) {
    console.log(`${destination}Outbox: ${step} cost ${JSON.stringify(await transactionCost(ctx))}`);
  }
}

/**
 * Queues the row for another attempt as the destination's retry policy
 * says (or the other side's Retry-After), or fails it when the policy is
 * spent. A row whose outcome is uncertain stays marked, so that the
 * destination can look for it before sending it again.
 */
async function retryOrFail(
  ctx: MutationCtx,
  policy: RetryPolicy,
  row: Doc<"outbox">,
  problem: { error: string; retryAfterMs?: number; uncertain?: true; httpStatus?: number },
) {
  const now = Date.now();
  const uncertain = row.uncertain ?? problem.uncertain;
  const next = nextAttempt(policy, { attemptsMade: row.attempts, firstAttemptAt: row.firstAttemptAt, now, random: Math.random(), retryAfterMs: problem.retryAfterMs });
  if ("giveUp" in next) {
    const error = truncate(`${problem.error} (${next.giveUp})`, LIMITS.reasonChars);
    await failRow(ctx, row, { error, httpStatus: problem.httpStatus, uncertain });
    return;
  }
  const error = truncate(problem.error, LIMITS.reasonChars);
  await updateRow(ctx, row, { status: "queued", error, httpStatus: problem.httpStatus, nextAttemptAt: now + next.retryInMs, uncertain });
}

/** Fails a row for good, and tells the operators (docs/operations.md#alerts). */
async function failRow(ctx: MutationCtx, row: Doc<"outbox">, change: { error: string; httpStatus?: number; uncertain?: true }) {
  await updateRow(ctx, row, { status: "failed", nextAttemptAt: undefined, finishedAt: Date.now(), ...change });
  await noticeOutboxFailed(ctx, row, change.error);
}

/** The runner's first step: claims the lane's next due row and prepares its call, or reschedules the runner, or ends it. */
async function claimNext<Request extends OutboxRequest, Call extends Value>(ctx: MutationCtx, destination: Destination<Request, Call>, laneId: Id<"outbox_lanes">) {
  const lane = await ctx.db.get("outbox_lanes", laneId);
  if (lane === null) {
    return null;
  }
  // The lane has one runner, so a row still being sent was left by a run that died waiting for the answer.
  const orphan = await rowBeingSent(ctx, lane);
  if (orphan !== null) {
    await retryOrFail(ctx, destination.retry, orphan, { error: "The run sending it ended before the answer was recorded; it may have been received.", uncertain: true });
  }
  const now = Date.now();
  const next = await nextRow(ctx, lane, now);
  if (next === null) {
    await ctx.db.patch("outbox_lanes", lane._id, { runner: undefined, runAt: undefined });
    return null;
  }
  if ("wakeAt" in next) {
    await scheduleLane(ctx, lane, next.wakeAt - now);
    return null;
  }
  const row = next.row as OutboxRow<Request>;
  const prepared = await destination.prepare(ctx, row);
  if ("gone" in prepared) {
    await failRow(ctx, next.row, { error: prepared.gone });
    await scheduleLane(ctx, lane, 0);
    return null;
  }
  const { call, method } = prepared;
  await updateRow(ctx, next.row, {
    status: "sending",
    attempts: row.attempts + 1,
    firstAttemptAt: row.firstAttemptAt ?? now,
    uncertainSince: row.uncertain === true ? row.uncertainSince : now,
    method,
    nextAttemptAt: undefined,
  });
  await logCost(ctx, lane.destination, `claim ${row.request.kind}`);
  return { rowId: row._id, call };
}

/** Records the answer to a row's request, and schedules the lane's next request after the destination's pace. */
async function recordOutcome<Request extends OutboxRequest, Call extends Value>(ctx: MutationCtx, destination: Destination<Request, Call>, rowId: Id<"outbox">, answer: Answer) {
  const row = await ctx.db.get("outbox", rowId);
  if (row === null || row.status !== "sending") {
    return;
  }
  const now = Date.now();
  switch (answer.kind) {
    case "sent":
      await updateRow(ctx, row, { status: "sent", result: answer.result, error: undefined, httpStatus: undefined, finishedAt: now, uncertain: undefined });
      await destination.sent?.(ctx, row as OutboxRow<Request>, answer.result);
      break;
    case "retry":
      if (answer.notMade === true) {
        const waitMs = retryDelayMs(destination.retry, row.attempts, { random: Math.random(), retryAfterMs: answer.retryAfterMs });
        await updateRow(ctx, row, { status: "queued", attempts: row.attempts - 1, error: truncate(answer.error, LIMITS.reasonChars), nextAttemptAt: now + waitMs });
        break;
      }
      await retryOrFail(ctx, destination.retry, row, answer);
      break;
    case "failed":
      if (await destination.mend?.(ctx, row as OutboxRow<Request>, answer.error)) {
        // What was refused is mended: the next request is another (a post instead of an edit), due now, in the row's place.
        await updateRow(ctx, row, { status: "queued", error: truncate(answer.error, LIMITS.reasonChars), httpStatus: answer.httpStatus, nextAttemptAt: now });
        break;
      }
      await failRow(ctx, row, { error: truncate(answer.error, LIMITS.reasonChars), httpStatus: answer.httpStatus });
      break;
    default:
      answer satisfies never;
  }
  const lane = await ctx.db
    .query("outbox_lanes")
    .withIndex("by_destination_lane", (q) => q.eq("destination", row.destination).eq("lane", row.lane))
    .unique();
  if (lane !== null) {
    await scheduleLane(ctx, lane, destination.spacingMs, { readyAt: now + destination.spacingMs });
  }
  await logCost(ctx, row.destination, `record ${(row.request as OutboxRequest).kind}`);
}

/** The answer to a claimed row's call; an adapter that throws is read as an answer that may or may not have arrived. */
async function answerTo<Request extends OutboxRequest, Call extends Value>(destination: Destination<Request, Call>, call: Call, rowId: Id<"outbox">): Promise<Answer> {
  try {
    return await destination.send(call, { rowId });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { kind: "retry", uncertain: true, error: truncate(`The request failed unexpectedly: ${message}`, LIMITS.reasonChars) };
  }
}

/**
 * A destination's runner functions, to export from its module
 * (convex/outbox/destinations/<name>.ts), where lanes find them by name.
 */
export function outboxRunner<Request extends OutboxRequest, Call extends Value>(destination: Destination<Request, Call>) {
  const name = destination.handle.destination;
  const claimed = v.object({ rowId: v.id("outbox"), call: destination.call });
  const claimRef = makeFunctionReference<"mutation", { laneId: Id<"outbox_lanes"> }, { rowId: Id<"outbox">; call: Call } | null>(
    runnerPath(name, "claimNext"),
  );
  const recordRef = makeFunctionReference<"mutation", { rowId: Id<"outbox">; answer: Answer }, null>(runnerPath(name, "recordOutcome"));
  return {
    claimNext: internalMutation({
      args: { laneId: v.id("outbox_lanes") },
      returns: v.union(claimed, v.null()),
      handler: async (ctx, { laneId }) => await claimNext(ctx, destination, laneId),
    }),
    recordOutcome: internalMutation({
      args: { rowId: v.id("outbox"), answer: vAnswer },
      returns: v.null(),
      handler: async (ctx, { rowId, answer }) => {
        await recordOutcome(ctx, destination, rowId, answer);
        return null;
      },
    }),
    /** One step of a lane's runner: claim the next row, make its request, record the answer. */
    sendNext: internalAction({
      args: { laneId: v.id("outbox_lanes") },
      returns: v.null(),
      handler: async (ctx, { laneId }) => {
        const next = await ctx.runMutation(claimRef, { laneId });
        if (next === null) {
          return null;
        }
        const answer = await answerTo(destination, next.call, next.rowId);
        await ctx.runMutation(recordRef, { rowId: next.rowId, answer });
        return null;
      },
    }),
  };
}
