import { internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import type { SlackThread } from "../../src/commands";
import { splitForSlack } from "../../src/slack/text";
import type { NewMessage } from "./chat/messages";
import { setting } from "./platform/config";
import { patchCounted, shardedCounter } from "./platform/counters";
import { liveRun } from "./platform/scheduling";
import { threadOfSession } from "./slackThreads";
import { OUTBOX_STATUSES, type OutboxRequest, type OutboxStatus } from "./slackValidators";

/*
 * The Slack outbox (docs/contract.md section 4, outbound): what is written
 * where a fact changes. An assistant's reply and a card's update become
 * outbox rows in the same transaction as the change itself, and the
 * channel's runner (convex/slackOutbox.ts) sends them in order.
 */

/** Posting to Slack is on when the deployment has a bot token; without one nothing is queued. */
export function slackPostingEnabled(): boolean {
  return setting("SLACK_BOT_TOKEN") !== undefined;
}

/** Outbox rows per status. */
const outboxCounter = shardedCounter<OutboxStatus>({
  table: "slack_outbox_counters",
  shards: 4,
  shardsOf: (ctx, status, shard) =>
    ctx.db.query("slack_outbox_counters").withIndex("by_status_shard", (q) => {
      const key = q.eq("status", status);
      return shard === undefined ? key : key.eq("shard", shard);
    }),
  insertShard: (ctx, status, shard, count) => ctx.db.insert("slack_outbox_counters", { status, shard, count }),
});

/** Adds `delta` to the count of outbox rows in `status`. */
export async function countOutbox(ctx: MutationCtx, status: OutboxStatus, delta: number) {
  await outboxCounter.add(ctx, status, delta);
}

/** Outbox rows per status. */
export async function outboxCounts(ctx: QueryCtx): Promise<{ status: OutboxStatus; count: number }[]> {
  const counts = [];
  for (const status of OUTBOX_STATUSES) {
    counts.push({ status, count: await outboxCounter.read(ctx, status) });
  }
  return counts;
}

/** Changes an outbox row, keeping the counts by status right. */
export async function updateOutboxRow(
  ctx: MutationCtx,
  row: Doc<"slack_outbox">,
  change: Partial<Omit<Doc<"slack_outbox">, "_id" | "_creationTime" | "request">>,
) {
  await patchCounted(ctx, { table: "slack_outbox", counter: outboxCounter, keyOf: (_row, status) => status }, row, change);
}

type Channel = { team: string; channel: string };

export async function laneOf(ctx: QueryCtx, { team, channel }: Channel) {
  return await ctx.db
    .query("slack_lanes")
    .withIndex("by_team_channel", (q) => q.eq("team", team).eq("channel", channel))
    .unique();
}

/** Slack allows about one message per second per channel: a channel's requests are this far apart. */
export const CHANNEL_SPACING_MS = 1000;

/** Whether the lane's runner is still to run or running (Convex's record of the scheduled function says so). */
export async function laneIsRunning(ctx: QueryCtx, lane: Doc<"slack_lanes">): Promise<boolean> {
  return (await liveRun(ctx, lane.runner)) !== null;
}

/** Makes the lane's one runner the one scheduled now, `delayMs` from now. */
export async function scheduleLane(ctx: MutationCtx, lane: Doc<"slack_lanes">, delayMs: number) {
  const runner = await ctx.scheduler.runAfter(delayMs, internal.outbox.send.sendNext, { laneId: lane._id });
  await ctx.db.patch("slack_lanes", lane._id, { runner, runAt: Date.now() + delayMs });
}

/**
 * Makes sure the channel's runner will reach rows just queued: a runner
 * still to run or running does (it stops only in a transaction that sees no
 * row left), otherwise one is started. A runner waiting further off (for a
 * row's retry) is brought forward to a second from now, since the new row
 * may not have to wait for that one (an ephemeral answer never does); it
 * was scheduled by a run at least a second after the channel's last
 * request, so Slack's pace holds.
 */
export async function wakeLane(ctx: MutationCtx, channel: Channel) {
  const lane = await laneOf(ctx, channel);
  const run = lane === null ? null : await liveRun(ctx, lane.runner);
  if (lane !== null && run !== null) {
    if (run.state.kind === "pending" && (lane.runAt ?? 0) > Date.now() + CHANNEL_SPACING_MS) {
      await ctx.scheduler.cancel(run._id);
      await scheduleLane(ctx, lane, CHANNEL_SPACING_MS);
    }
    return;
  }
  const laneId = lane?._id ?? (await ctx.db.insert("slack_lanes", { team: channel.team, channel: channel.channel }));
  await scheduleLane(ctx, (await ctx.db.get("slack_lanes", laneId))!, 0);
}

/** Queues requests to one thread, in this order, after everything queued to its channel before. */
async function enqueue(ctx: MutationCtx, thread: SlackThread, requests: OutboxRequest[]): Promise<Id<"slack_outbox">[]> {
  const now = Date.now();
  const rowIds = [];
  for (const request of requests) {
    rowIds.push(
      await ctx.db.insert("slack_outbox", { ...thread, request, status: "queued", attempts: 0, nextAttemptAt: now }),
    );
  }
  if (rowIds.length > 0) {
    await countOutbox(ctx, "queued", rowIds.length);
    await wakeLane(ctx, thread);
  }
  return rowIds;
}

/** Queues an assistant's message of a session bound to a Slack thread, as one post per part. */
export async function queueReply(
  ctx: MutationCtx,
  sessionId: Id<"chat_sessions">,
  messageId: Id<"chat_messages">,
  message: NewMessage,
) {
  if (message.role !== "assistant" || !slackPostingEnabled()) {
    return;
  }
  const thread = await threadOfSession(ctx, sessionId);
  if (thread === null) {
    return;
  }
  const parts = splitForSlack(message.content);
  await enqueue(
    ctx,
    thread,
    parts.map((text, i) => ({ kind: "reply", messageId, part: i + 1, parts: parts.length, text })),
  );
}

/**
 * Queues a message only `user` sees, in a channel and thread (mrkdwn, escaped
 * by its author): it is not part of the thread's visible order, so it goes
 * out as soon as the channel's pace allows, behind no other row's retry.
 */
export async function queueEphemeral(ctx: MutationCtx, thread: SlackThread, user: string, text: string) {
  if (!slackPostingEnabled()) {
    return null;
  }
  const [rowId] = await enqueue(ctx, thread, [{ kind: "ephemeral", user, text }]);
  return rowId;
}

export async function cardOf(ctx: QueryCtx, workOrderId: Id<"work_orders">) {
  return await ctx.db
    .query("slack_cards")
    .withIndex("by_workOrderId", (q) => q.eq("workOrderId", workOrderId))
    .unique();
}

/**
 * Brings a work order's card up to date: the first time for an order of a
 * bound session, a card is made and its post queued; after that, an update
 * is queued unless one is already waiting (it is rendered when sent, so it
 * will show this change too).
 */
export async function syncCard(ctx: MutationCtx, order: { _id: Id<"work_orders">; sessionId: Id<"chat_sessions"> }) {
  if (!slackPostingEnabled()) {
    return;
  }
  const card = await cardOf(ctx, order._id);
  if (card?.queued !== undefined) {
    return;
  }
  const thread = card === null ? await threadOfSession(ctx, order.sessionId) : card;
  if (thread === null) {
    return;
  }
  const { team, channel, threadTs } = thread;
  const [rowId] = await enqueue(ctx, { team, channel, threadTs }, [{ kind: "card", workOrderId: order._id }]);
  if (card === null) {
    await ctx.db.insert("slack_cards", { workOrderId: order._id, team, channel, threadTs, queued: rowId });
  } else {
    await ctx.db.patch("slack_cards", card._id, { queued: rowId });
  }
}

/** syncCard for an order known by its id (a new pull request link): the order is read only when posting is on. */
export async function syncCardOf(ctx: MutationCtx, workOrderId: Id<"work_orders">) {
  if (!slackPostingEnabled()) {
    return;
  }
  const order = await ctx.db.get("work_orders", workOrderId);
  if (order !== null) {
    await syncCard(ctx, order);
  }
}

/** A card row queued again (a retry, a replay) collapses the card's later changes into it, if none waits yet. */
export async function cardRowRequeued(ctx: MutationCtx, row: Doc<"slack_outbox">) {
  if (row.request.kind !== "card") {
    return;
  }
  const card = await cardOf(ctx, row.request.workOrderId);
  if (card !== null && card.queued === undefined) {
    await ctx.db.patch("slack_cards", card._id, { queued: row._id });
  }
}
