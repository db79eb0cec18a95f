import type { Id } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../_generated/server";
import { enqueue } from "../../outbox/enqueue";
import { slackOutbox } from "../../outbox/registry";
import { slackPostingEnabled } from "./replies";
import { channelLane } from "./requests";
import { threadOfSession } from "./threads";

/*
 * Work-order cards (docs/contract.md#slack-replies-and-work-order-cards-outbound):
 * one message per order of a bound session, queued where the order changes
 * and rendered by the outbox's Slack adapter when it is sent.
 */

export async function cardOf(ctx: QueryCtx, workOrderId: Id<"work_orders">) {
  return await ctx.db
    .query("slack_cards")
    .withIndex("by_workOrderId", (q) => q.eq("workOrderId", workOrderId))
    .unique();
}

/**
 * Brings a work order's card up to date: the first time for an order of a
 * bound session, a card is made and its post queued; after that, an update
 * is queued unless the card's latest row is still queued (it is rendered
 * when sent, so it will show this change too; a row waiting for its retry
 * is queued).
 */
export async function syncCard(ctx: MutationCtx, order: { _id: Id<"work_orders">; sessionId: Id<"chat_sessions"> }) {
  if (!slackPostingEnabled()) {
    return;
  }
  const card = await cardOf(ctx, order._id);
  const latest = card?.latestRow === undefined ? null : await ctx.db.get("outbox", card.latestRow);
  if (latest?.status === "queued") {
    return;
  }
  const thread = card === null ? await threadOfSession(ctx, order.sessionId) : card;
  if (thread === null) {
    return;
  }
  const { team, channel, threadTs } = thread;
  const request = { kind: "card" as const, thread: { team, channel, threadTs }, workOrderId: order._id };
  const [rowId] = await enqueue(ctx, slackOutbox, channelLane(thread), [{ request }]);
  if (card === null) {
    await ctx.db.insert("slack_cards", { workOrderId: order._id, team, channel, threadTs, latestRow: rowId });
  } else {
    await ctx.db.patch("slack_cards", card._id, { latestRow: rowId });
  }
}
