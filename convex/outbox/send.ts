import { v } from "convex/values";
import { internal } from "../_generated/api";
import type { Doc } from "../_generated/dataModel";
import { internalAction, internalMutation, type MutationCtx } from "../_generated/server";
import { renderCard, CARD_PULL_REQUESTS } from "../../src/slack/card";
import { escapeSlackText } from "../../src/slack/text";
import {
  callSlack,
  findPost,
  postMarker,
  SLACK_API_URL,
  type PostSought,
  type SlackAnswer,
  type SlackCall,
} from "../../src/slack/webApi";
import { slackMessageId } from "../../src/sources/slack/events";
import { truncate } from "../../src/text";
import { LIMITS } from "../../src/limits";
import { setting, temporalConfig } from "../model/platform/config";
import { transactionCost } from "../model/platform/cost";
import { recordOrigin } from "../model/chat/origins";
import { retryOf } from "../model/workOrders/retries";
import { CHANNEL_SPACING_MS, cardOf, cardRowRequeued, laneOf, scheduleLane, updateOutboxRow } from "../model/slackOutbox";
import { nextRow, rowBeingSent } from "../model/slackQueue";
import { vSlackAnswer, vSlackCall } from "../model/slackValidators";

/*
 * Sending the Slack outbox (docs/contract.md section 4, outbound). Each
 * channel has one runner at a time (slack_lanes): a chain of sendNext runs,
 * each claiming the channel's next row, making its one request, recording
 * the answer and scheduling the next, a second later. A reply or card that
 * must wait (Slack's Retry-After, backoff) holds the channel's replies and
 * cards back, so posts go out in the order they were made; an ephemeral
 * answer, seen by one person outside that order, goes out when due, and
 * neither waits for the other. A row Slack refuses for good ends failed and
 * the channel goes on.
 */

const SPACING_MS = CHANNEL_SPACING_MS;
const TIMEOUT_MS = 10_000;
// After attempt n (1-based) the next one waits RETRY_DELAYS_MS[n - 1] (or Slack's Retry-After); then the row fails.
const RETRY_DELAYS_MS = [5_000, 30_000, 2 * 60_000, 10 * 60_000, 30 * 60_000] as const;
const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;

/** With JANGAR_LOG_COST set, what this transaction read and wrote (how `npm run bench` measures the outbox). */
async function logCost(ctx: MutationCtx, step: string) {
  if (setting("JANGAR_LOG_COST") !== undefined) {
    console.log(`slackOutbox: ${step} cost ${JSON.stringify(await transactionCost(ctx))}`);
  }
}

/**
 * Queues the row for another attempt with backoff (or Slack's Retry-After),
 * or fails it when attempts are spent. A post whose outcome is uncertain is
 * marked, so that its next attempt first looks for it in the thread.
 */
async function retryOrFail(
  ctx: MutationCtx,
  row: Doc<"slack_outbox">,
  problem: { error: string; retryAfterMs?: number; uncertain?: true },
) {
  const now = Date.now();
  const maybePosted = row.maybePosted ?? (problem.uncertain && row.method === "chat.postMessage" ? true : undefined);
  if (row.attempts >= MAX_ATTEMPTS) {
    await updateOutboxRow(ctx, row, {
      status: "failed",
      error: truncate(`${problem.error} (gave up after ${row.attempts} attempts)`, LIMITS.reasonChars),
      nextAttemptAt: undefined,
      finishedAt: now,
      maybePosted,
    });
    return;
  }
  const delay = problem.retryAfterMs ?? RETRY_DELAYS_MS[row.attempts - 1];
  await updateOutboxRow(ctx, row, {
    status: "queued",
    error: truncate(problem.error, LIMITS.reasonChars),
    nextAttemptAt: now + delay,
    maybePosted,
  });
  await cardRowRequeued(ctx, row);
}

/** A Slack ts (seconds, with microseconds) for a time in milliseconds. */
function slackTs(ms: number): string {
  return (ms / 1000).toFixed(6);
}

// How long before a row was queued its post could carry a Slack ts: clocks differ a little.
const CLOCK_SLACK_MS = 60_000;

/** The Web API call that carries out a row, as things are now; null when what it shows is gone. */
async function callFor(ctx: MutationCtx, row: Doc<"slack_outbox">, card: Doc<"slack_cards"> | null): Promise<SlackCall | null> {
  const { request } = row;
  // Each post carries the row's marker, by which it is found again after an uncertain attempt.
  const metadata = postMarker(row._id);
  if (request.kind === "reply") {
    return {
      method: "chat.postMessage",
      args: { channel: row.channel, thread_ts: row.threadTs, text: escapeSlackText(request.text), metadata },
    };
  }
  if (request.kind === "ephemeral") {
    // Seen by one person, for a moment: not found again after an unclear answer, nor edited.
    return { method: "chat.postEphemeral", args: { channel: row.channel, thread_ts: row.threadTs, user: request.user, text: request.text } };
  }
  const order = await ctx.db.get("work_orders", request.workOrderId);
  if (order === null || card === null) {
    return null;
  }
  const pullRequests = await ctx.db
    .query("work_order_links")
    .withIndex("by_workOrderId_kind", (q) => q.eq("workOrderId", order._id).eq("kind", "pr"))
    .take(CARD_PULL_REQUESTS + 1);
  const retry = await retryOf(ctx, order._id);
  const { text, blocks } = renderCard({
    workOrderId: order._id,
    title: order.title,
    status: order.status,
    pullRequests: pullRequests.slice(0, CARD_PULL_REQUESTS).map((link) => link.value),
    morePullRequests: pullRequests.length > CARD_PULL_REQUESTS,
    retriedAs: retry?.retryId,
    cancelStopsWorkflow: temporalConfig() !== null,
  });
  return card.ts === undefined
    ? { method: "chat.postMessage", args: { channel: row.channel, thread_ts: row.threadTs, text, blocks, metadata } }
    : { method: "chat.update", args: { channel: row.channel, ts: card.ts, text, blocks } };
}

/**
 * The runner's first step: claims the channel's oldest queued row, if it is
 * due, and says what to send (and, for a post that may already be in the
 * thread, where to look for it first); otherwise reschedules the runner for
 * when it is due, or ends it when the channel's queue is empty.
 */
export const claimNext = internalMutation({
  args: { laneId: v.id("slack_lanes") },
  returns: v.union(
    v.object({
      rowId: v.id("slack_outbox"),
      call: vSlackCall,
      lookFirst: v.optional(v.object({ channel: v.string(), threadTs: v.string(), oldest: v.string(), marker: v.string() })),
    }),
    v.null(),
  ),
  handler: async (ctx, { laneId }) => {
    const lane = await ctx.db.get("slack_lanes", laneId);
    if (lane === null) {
      return null;
    }
    // The lane has one runner, so a row still being sent was left by a run that died waiting for Slack.
    const orphan = await rowBeingSent(ctx, lane);
    if (orphan !== null) {
      await retryOrFail(ctx, orphan, {
        error: "The run sending it ended before Slack's answer was recorded; Slack may have received it.",
        uncertain: true,
      });
    }
    const now = Date.now();
    const next = await nextRow(ctx, lane, now);
    if (next === null) {
      await ctx.db.patch("slack_lanes", lane._id, { runner: undefined, runAt: undefined });
      return null;
    }
    if ("wakeAt" in next) {
      await scheduleLane(ctx, lane, next.wakeAt - now);
      return null;
    }
    const { row } = next;
    const card = row.request.kind === "card" ? await cardOf(ctx, row.request.workOrderId) : null;
    if (card?.queued === row._id) {
      // Changes from now on need a request of their own: this one is rendered now.
      await ctx.db.patch("slack_cards", card._id, { queued: undefined });
    }
    const call = await callFor(ctx, row, card);
    if (call === null) {
      await updateOutboxRow(ctx, row, { status: "failed", error: "The work order or its card no longer exists.", nextAttemptAt: undefined, finishedAt: now });
      await scheduleLane(ctx, lane, 0);
      return null;
    }
    await updateOutboxRow(ctx, row, { status: "sending", attempts: row.attempts + 1, method: call.method, nextAttemptAt: undefined });
    await logCost(ctx, `claim ${row.request.kind}`);
    const lookFirst =
      row.maybePosted === true && call.method === "chat.postMessage"
        ? { channel: row.channel, threadTs: row.threadTs, oldest: slackTs(row._creationTime - CLOCK_SLACK_MS), marker: row._id }
        : undefined;
    return { rowId: row._id, call, lookFirst };
  },
});

/** Records Slack's answer to a row's request, and schedules the channel's next request. */
export const recordOutcome = internalMutation({
  args: { rowId: v.id("slack_outbox"), answer: vSlackAnswer },
  returns: v.null(),
  handler: async (ctx, { rowId, answer }) => {
    const row = await ctx.db.get("slack_outbox", rowId);
    if (row === null || row.status !== "sending") {
      return null;
    }
    const now = Date.now();
    switch (answer.kind) {
      case "ok": {
        await updateOutboxRow(ctx, row, { status: "sent", ts: answer.ts, error: undefined, finishedAt: now, maybePosted: undefined });
        if (answer.ts !== undefined && row.request.kind === "reply") {
          // Slack's echo of this post names it by this id: it is this message, not a new one.
          await recordOrigin(ctx, slackMessageId(row.team, row.channel, answer.ts), row.request.messageId);
        }
        if (answer.ts !== undefined && row.request.kind === "card" && row.method === "chat.postMessage") {
          const card = await cardOf(ctx, row.request.workOrderId);
          if (card !== null) {
            await ctx.db.patch("slack_cards", card._id, { ts: answer.ts });
          }
        }
        break;
      }
      case "retry":
        await retryOrFail(ctx, row, answer);
        break;
      case "failed":
        await updateOutboxRow(ctx, row, { status: "failed", error: answer.error, finishedAt: now });
        break;
      default:
        answer satisfies never;
    }
    const lane = await laneOf(ctx, row);
    if (lane !== null) {
      await scheduleLane(ctx, lane, SPACING_MS);
    }
    await logCost(ctx, `record ${row.request.kind}`);
    return null;
  },
});

/**
 * What Slack says to a claimed row's request. A post that may already be in
 * the thread (an earlier attempt got no clear answer) is looked for first,
 * by its marker: found, it is not posted again. When the thread cannot be
 * read for good (a missing `channels:history` scope, say), it is posted
 * all the same, with a warning: it may then show twice.
 */
async function answerTo(claimed: { rowId: string; call: SlackCall; lookFirst?: PostSought }): Promise<SlackAnswer> {
  const token = setting("SLACK_BOT_TOKEN");
  if (token === undefined) {
    return { kind: "failed", error: "SLACK_BOT_TOKEN is not set on this deployment; set it, then replay the row." };
  }
  const config = { token, baseUrl: setting("SLACK_API_URL") ?? SLACK_API_URL, timeoutMs: TIMEOUT_MS };
  if (claimed.lookFirst !== undefined) {
    const search = await findPost(config, claimed.lookFirst);
    switch (search.kind) {
      case "found":
        return { kind: "ok", ts: search.ts };
      case "retry":
        return search;
      case "failed":
        console.warn(`slackOutbox: row ${claimed.rowId} may already be posted, but its thread cannot be read (${search.error}); posting it again`);
        break;
      case "notFound":
        break;
      default:
        search satisfies never;
    }
  }
  return await callSlack(config, claimed.call);
}

/** One step of a channel's runner: claim the next row, make its request, record the answer. */
export const sendNext = internalAction({
  args: { laneId: v.id("slack_lanes") },
  returns: v.null(),
  handler: async (ctx, { laneId }) => {
    const claimed = await ctx.runMutation(internal.outbox.send.claimNext, { laneId });
    if (claimed === null) {
      return null;
    }
    const answer = await answerTo(claimed);
    await ctx.runMutation(internal.outbox.send.recordOutcome, { rowId: claimed.rowId, answer });
    return null;
  },
});
