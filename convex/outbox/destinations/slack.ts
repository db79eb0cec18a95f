import { literals } from "convex-helpers/validators";
import { v, type Infer } from "convex/values";
import type { MutationCtx } from "../../_generated/server";
import { retryPolicy } from "../../../src/retry";
import { renderCard, CARD_PULL_REQUESTS } from "../../../src/slack/card";
import { slackMessageId } from "../../../src/slack/messageIds";
import { escapeSlackText } from "../../../src/slack/text";
import { callSlack, findPost, postMarker, SLACK_API_URL, type PostSought, type SlackAnswer, type SlackCall } from "../../../src/slack/webApi";
import { setting, temporalConfig } from "../../model/platform/config";
import { recordOrigin } from "../../model/chat/origins";
import { retryOf } from "../../model/workOrders/retries";
import { cardOf } from "../../model/slack/cards";
import type { SlackRequest } from "../../model/slack/requests";
import { destination, type Answer, type OutboxRow, type Prepared } from "../destination";
import { slackOutbox } from "../registry";
import { outboxRunner } from "../runner";

/*
 * The outbox's Slack destination (docs/contract.md#slack-replies-and-work-order-cards-outbound):
 * replies and cards posted in a session's thread, ephemeral answers,
 * operator alerts in the alerts channel, a lane per channel, a second
 * apart. A card is rendered from its order when its row is claimed, so it
 * shows the order as it is then. Every post carries its row's marker; a
 * thread's post whose outcome is unknown is looked for in the
 * thread before it is posted again.
 */

/** A Web API request, and where to look for its post first when an earlier attempt may have made it. */
const vSlackCall = v.object({
  request: v.object({ method: literals("chat.postMessage", "chat.update", "chat.postEphemeral"), args: v.record(v.string(), v.any()) }),
  lookFirst: v.optional(v.object({ channel: v.string(), threadTs: v.string(), oldest: v.string(), marker: v.string(), botUser: v.optional(v.string()) })),
});
type Call = Infer<typeof vSlackCall>;

// The validator and the client's types must describe the same values.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const callValidatorMatchesType: Same<Call["request"], SlackCall> & Same<NonNullable<Call["lookFirst"]>, PostSought> = true;
void callValidatorMatchesType;

const TIMEOUT_MS = 10_000;
// How long before an attempt started its post could carry a Slack ts: clocks differ a little.
const CLOCK_SLACK_MS = 5_000;
// Slack allows apps outside its Marketplace about one conversations.replies a minute.
const LOOK_WAIT_MS = 60_000;

/** A Slack ts (seconds, with microseconds) for a time in milliseconds. */
function slackTs(ms: number): string {
  return (ms / 1000).toFixed(6);
}

/** The card's call as the order is now: its post the first time, an edit of it after; null when the order or card is gone. */
async function cardCall(ctx: MutationCtx, request: Extract<SlackRequest, { kind: "card" }>, metadata: ReturnType<typeof postMarker>): Promise<SlackCall | null> {
  const order = await ctx.db.get("work_orders", request.workOrderId);
  const card = await cardOf(ctx, request.workOrderId);
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
  const { channel, threadTs } = request.thread;
  return card.ts === undefined
    ? { method: "chat.postMessage", args: { channel, thread_ts: threadTs, text, blocks, metadata } }
    : { method: "chat.update", args: { channel, ts: card.ts, text, blocks } };
}

/** The Web API call that carries out a row, as things are now; null when what it shows is gone. */
async function callFor(ctx: MutationCtx, row: OutboxRow<SlackRequest>): Promise<SlackCall | null> {
  const { request } = row;
  // Each post carries the row's marker, by which it is found again after an uncertain attempt.
  const metadata = postMarker(row._id);
  if (request.kind === "alert") {
    // A message of its own in the alerts channel, in no thread (docs/operations.md#alerts).
    return { method: "chat.postMessage", args: { channel: request.channel, text: request.text, metadata } };
  }
  const { channel, threadTs } = request.thread;
  switch (request.kind) {
    case "reply":
      return { method: "chat.postMessage", args: { channel, thread_ts: threadTs, text: escapeSlackText(request.text), metadata } };
    case "ephemeral":
      // Seen by one person, for a moment: not found again after an unclear answer, nor edited.
      return { method: "chat.postEphemeral", args: { channel, thread_ts: threadTs, user: request.user, text: request.text } };
    case "card":
      return await cardCall(ctx, request, metadata);
    default:
      request satisfies never;
      return null;
  }
}

async function prepare(ctx: MutationCtx, row: OutboxRow<SlackRequest>): Promise<Prepared<Call>> {
  const request = await callFor(ctx, row);
  if (request === null) {
    return { gone: "The work order or its card no longer exists." };
  }
  if (row.request.kind === "alert") {
    // Not looked for after an uncertain attempt (a thread is where posts are looked for): an alert may then show twice.
    return { call: { request }, method: request.method };
  }
  const { channel, threadTs } = row.request.thread;
  // The post can only have been made since the first attempt that may have made it started.
  const since = row.uncertainSince ?? row.firstAttemptAt ?? row.enqueuedAt;
  const lookFirst =
    row.uncertain === true && request.method === "chat.postMessage"
      ? { channel, threadTs, oldest: slackTs(since - CLOCK_SLACK_MS), marker: row._id, botUser: setting("SLACK_BOT_USER_ID") }
      : undefined;
  return { call: { request, lookFirst }, method: request.method };
}

/** Slack's answer in the outbox's words: `ok` is sent, with the message's ts. */
function answerOf(answer: SlackAnswer): Answer {
  return answer.kind === "ok" ? { kind: "sent", result: answer.ts } : answer;
}

/**
 * What Slack says to a claimed row's request. A post that may already be in
 * the thread (an earlier attempt got no clear answer) is looked for first,
 * by its marker: found, it is not posted again. When the thread cannot be
 * read for good (a missing `channels:history` scope, say), it is posted
 * all the same, with a warning: it may then show twice.
 */
async function send({ request, lookFirst }: Call, { rowId }: { rowId: string }): Promise<Answer> {
  const token = setting("SLACK_BOT_TOKEN");
  if (token === undefined) {
    return { kind: "failed", error: "SLACK_BOT_TOKEN is not set on this deployment; set it, then replay the row." };
  }
  const config = { token, baseUrl: setting("SLACK_API_URL") ?? SLACK_API_URL, timeoutMs: TIMEOUT_MS };
  if (lookFirst !== undefined) {
    const search = await findPost(config, lookFirst);
    switch (search.kind) {
      case "found":
        return { kind: "sent", result: search.ts };
      case "rateLimited":
        // Nothing was posted: the row waits for Slack's leave to read, and the wait costs it no attempt.
        return { kind: "retry", notMade: true, error: "conversations.replies: ratelimited", retryAfterMs: search.retryAfterMs ?? LOOK_WAIT_MS };
      case "retry":
        return search;
      case "failed":
        console.warn(`slackOutbox: row ${rowId} may already be posted, but its thread cannot be read (${search.error}); posting it again`);
        break;
      case "notFound":
        break;
      default:
        search satisfies never;
    }
  }
  return answerOf(await callSlack(config, request));
}

/** A reply's post is that chat message at Slack (its echo is not appended again); a card's first post gives the card its ts. */
async function sent(ctx: MutationCtx, row: OutboxRow<SlackRequest>, ts: string | undefined) {
  const { request } = row;
  if (ts === undefined) {
    return;
  }
  if (request.kind === "reply") {
    await recordOrigin(ctx, slackMessageId(request.thread.team, request.thread.channel, ts), request.messageId);
  }
  if (request.kind === "card" && row.method === "chat.postMessage") {
    const card = await cardOf(ctx, request.workOrderId);
    if (card !== null) {
      await ctx.db.patch("slack_cards", card._id, { ts });
    }
  }
}

/**
 * A card deleted in Slack (`message_not_found` on its edit) forgets its ts,
 * so that its row posts it again, as the order is now, and later changes
 * edit the new post (docs/contract.md#hardening-rules).
 */
async function mend(ctx: MutationCtx, row: OutboxRow<SlackRequest>, error: string): Promise<boolean> {
  const { request } = row;
  if (request.kind !== "card" || row.method !== "chat.update" || error !== "message_not_found") {
    return false;
  }
  const card = await cardOf(ctx, request.workOrderId);
  if (card?.ts === undefined) {
    return false;
  }
  await ctx.db.patch("slack_cards", card._id, { ts: undefined });
  return true;
}

export const slack = destination({
  handle: slackOutbox,
  call: vSlackCall,
  // Slack allows about one message per second per channel.
  spacingMs: 1_000,
  // After 5 s, 25 s, 2 min, 10 min and 52 min (each less up to a quarter at random), or Slack's Retry-After; six attempts.
  retry: retryPolicy({ initialMs: 5_000, factor: 5, maxDelayMs: 60 * 60_000, maxAttempts: 6 }),
  prepare,
  send,
  sent,
  mend,
});

export const { claimNext, recordOutcome, sendNext } = outboxRunner(slack);
