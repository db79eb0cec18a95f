import { literals } from "convex-helpers/validators";
import { v, type Infer } from "convex/values";
import type { SlackAnswer, SlackCall } from "../../src/slack/webApi";

/** Where an outbox row stands: waiting, being sent (one per channel at a time), done, or given up. */
export const OUTBOX_STATUSES = ["queued", "sending", "sent", "failed"] as const;
export const vOutboxStatus = literals(...OUTBOX_STATUSES);
export type OutboxStatus = Infer<typeof vOutboxStatus>;

/**
 * What an outbox row asks of Slack: one part of an assistant's reply (its
 * text, posted in the thread), a work order's card brought up to date
 * (posted the first time, edited in place after), or a message only one
 * person sees (chat.postEphemeral).
 */
export const vOutboxRequest = v.union(
  v.object({
    kind: v.literal("reply"),
    messageId: v.id("chat_messages"),
    part: v.number(),
    parts: v.number(),
    text: v.string(),
  }),
  v.object({ kind: v.literal("card"), workOrderId: v.id("work_orders") }),
  // Told to one person alone (why a click changed nothing), as mrkdwn already escaped.
  v.object({ kind: v.literal("ephemeral"), user: v.string(), text: v.string() }),
);
export type OutboxRequest = Infer<typeof vOutboxRequest>;

/** A Web API request, as the claiming mutation hands it to the sending action. */
export const vSlackCall = v.object({
  method: literals("chat.postMessage", "chat.update", "chat.postEphemeral"),
  args: v.record(v.string(), v.any()),
});

export const vSlackAnswer = v.union(
  v.object({ kind: v.literal("ok"), ts: v.optional(v.string()) }),
  v.object({
    kind: v.literal("retry"),
    error: v.string(),
    retryAfterMs: v.optional(v.number()),
    uncertain: v.optional(v.literal(true)),
  }),
  v.object({ kind: v.literal("failed"), error: v.string() }),
);

// The validators and the client's types must describe the same values.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const callValidatorMatchesType: Same<Infer<typeof vSlackCall>, SlackCall> = true;
const answerValidatorMatchesType: Same<Infer<typeof vSlackAnswer>, SlackAnswer> = true;
void callValidatorMatchesType;
void answerValidatorMatchesType;
