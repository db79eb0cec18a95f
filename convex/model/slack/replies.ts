import type { Id } from "../../_generated/dataModel";
import type { MutationCtx } from "../../_generated/server";
import type { SlackThread } from "../../../src/commands";
import { splitForSlack } from "../../../src/slack/text";
import { numberedParts } from "../../../src/text";
import { setting } from "../platform/config";
import { enqueue } from "../../outbox/enqueue";
import { slackOutbox } from "../../outbox/registry";
import { channelLane, laneOfRequest } from "./requests";
import { threadOfSession } from "./threads";

/*
 * What a session bound to a Slack thread says there
 * (docs/contract.md#slack-replies-and-work-order-cards-outbound): an
 * assistant's reply, queued in the transaction that appends it, and the
 * messages told to one person; the outbox's Slack adapter sends them.
 */

/** Posting to Slack is on when the deployment has a bot token; without one nothing is queued. */
export function slackPostingEnabled(): boolean {
  return setting("SLACK_BOT_TOKEN") !== undefined;
}

/** Queues a message of a session bound to a Slack thread there, as one post per part (an assistant's, convex/model/chat/messages.ts). */
export async function queueSlackReply(ctx: MutationCtx, sessionId: Id<"chat_sessions">, messageId: Id<"chat_messages">, content: string) {
  const thread = slackPostingEnabled() ? await threadOfSession(ctx, sessionId) : null;
  if (thread === null) {
    return;
  }
  await enqueue(
    ctx,
    slackOutbox,
    channelLane(thread),
    numberedParts(splitForSlack(content)).map((part) => ({ request: { kind: "reply" as const, thread, messageId, ...part } })),
  );
}

/**
 * Queues a message only `user` sees, in a channel and thread (mrkdwn, escaped
 * by its author): it is not part of the thread's visible order, so it goes
 * out on that person's own lane, behind nothing of the channel's.
 */
export async function queueEphemeral(ctx: MutationCtx, thread: SlackThread, user: string, text: string) {
  if (!slackPostingEnabled()) {
    return null;
  }
  const request = { kind: "ephemeral" as const, thread, user, text };
  const [rowId] = await enqueue(ctx, slackOutbox, laneOfRequest(request), [{ request, unordered: true }]);
  return rowId;
}
