import { z } from "zod";
import { PRINTABLE_ID } from "../source";

// The parts of Slack's Events API payloads this service reads.

export const urlVerification = z.object({ type: z.literal("url_verification"), challenge: z.string() });

export const appRateLimited = z.object({
  type: z.literal("app_rate_limited"),
  team_id: z.string(),
  minute_rate_limited: z.number(),
});

const slackFile = z.object({ name: z.string().nullish(), title: z.string().nullish() });

/** A message as it appears in `event`, and inside message_changed's `message`. */
export const slackMessage = z.object({
  type: z.string(),
  subtype: z.string().optional(),
  user: z.string().optional(),
  bot_id: z.string().nullish(),
  text: z.string().nullish(),
  ts: z.string(),
  thread_ts: z.string().optional(),
  channel: z.string().optional(),
  files: z.array(slackFile).optional(),
  edited: z.object({ ts: z.string() }).optional(),
});

export const eventCallback = z.object({
  type: z.literal("event_callback"),
  team_id: z.string(),
  // The delivery key: checked before it is used (docs/contract.md section 3).
  event_id: z.string().regex(PRINTABLE_ID, "must be 1 to 256 printable ASCII characters without spaces"),
  event: z.looseObject({ type: z.string() }),
});

export const appMention = slackMessage.extend({ type: z.literal("app_mention"), user: z.string(), channel: z.string() });

export const channelMessage = slackMessage.extend({ type: z.literal("message"), channel: z.string() });

export const messageChanged = z.object({
  type: z.literal("message"),
  subtype: z.literal("message_changed"),
  channel: z.string(),
  message: slackMessage,
});

export const messageDeleted = z.object({
  type: z.literal("message"),
  subtype: z.literal("message_deleted"),
  channel: z.string(),
  deleted_ts: z.string(),
});

export type SlackMessage = z.infer<typeof slackMessage>;
