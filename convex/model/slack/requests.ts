import { v, type Infer } from "convex/values";
import { vSlackThread, type SlackThread } from "../../../src/commands";

/**
 * What a Slack outbox row asks of Slack (docs/contract.md#slack-replies-and-work-order-cards-outbound),
 * in the thread it names: one part of an assistant's reply (its text), a
 * work order's card brought up to date (posted the first time, edited in
 * place after; rendered when sent), or a message only one person sees
 * (chat.postEphemeral), as mrkdwn already escaped; or, in no thread, an
 * operator alert in the alerts channel (its text mrkdwn already escaped).
 */
export const vSlackRequest = v.union(
  v.object({
    kind: v.literal("reply"),
    thread: vSlackThread,
    messageId: v.id("chat_messages"),
    part: v.number(),
    parts: v.number(),
    text: v.string(),
  }),
  v.object({ kind: v.literal("card"), thread: vSlackThread, workOrderId: v.id("work_orders") }),
  v.object({ kind: v.literal("ephemeral"), thread: vSlackThread, user: v.string(), text: v.string() }),
  // An operator alert (docs/operations.md#alerts): a message of its own in the alerts channel, in no thread.
  v.object({ kind: v.literal("alert"), channel: v.string(), text: v.string() }),
);
export type SlackRequest = Infer<typeof vSlackRequest>;

/** A Slack channel is a lane of the outbox: one request at a time, a second apart. */
export function channelLane({ team, channel }: Pick<SlackThread, "team" | "channel">): string {
  return `${team}:${channel}`;
}

/**
 * The lane a request goes out on. A person's ephemeral answers in a channel
 * are a lane of their own: seen by them alone, they hold back no reply or
 * card, nor anyone else's answers, however often someone clicks a button
 * they may not use (docs/contract.md#hardening-rules).
 */
export function laneOfRequest(request: SlackRequest): string {
  switch (request.kind) {
    case "ephemeral":
      return `${channelLane(request.thread)}:${request.user}`;
    case "alert":
      return alertsLane(request.channel);
    case "reply":
    case "card":
      return channelLane(request.thread);
    default:
      return request satisfies never;
  }
}

/** The operator alerts' lane: the alerts channel, apart from every session's thread. */
export function alertsLane(channel: string): string {
  return `alerts:${channel}`;
}
