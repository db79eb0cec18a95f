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
  // The delivery key: checked before it is used (docs/contract.md#trust-boundary).
  event_id: z.string().regex(PRINTABLE_ID, "must be 1 to 256 printable ASCII characters without spaces"),
  event: z.looseObject({ type: z.string() }),
});

// `user` may be missing: another app, or a workflow, wrote the mention or message (it is then ignored).
export const appMention = slackMessage.extend({ type: z.literal("app_mention"), channel: z.string() });

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

// Interactivity and slash commands (docs/contract.md#slack-interactivity-cancel-and-retry-on-the-card-and-a-slash-command): form-encoded requests.

/** A Slack id (team, user, channel): letters, digits, `_` and `-`, so that `slack:<team>:<user>` reads one way. */
const slackId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be a Slack id (1 to 64 letters, digits, _ or -)");
const slackTs = z.string().regex(/^\d{1,12}(\.\d{1,9})?$/, "must be a Slack ts");
// The delivery key: checked before it is used (docs/contract.md#trust-boundary).
const triggerId = z.string().regex(PRINTABLE_ID, "must be 1 to 256 printable ASCII characters without spaces");

/** Any interaction: its type, and the trigger_id every kind this app can receive carries. */
export const interaction = z.looseObject({ type: z.string().max(200), trigger_id: triggerId });

/** A click on a button of one of the app's messages (a work order's card). */
export const blockActions = z.object({
  type: z.literal("block_actions"),
  trigger_id: triggerId,
  // null from an Enterprise Grid org-wide install: the user's own team_id names the workspace.
  team: z.object({ id: slackId }).nullable(),
  user: z.object({ id: slackId, team_id: slackId.optional() }),
  // Where the clicked message is: the ephemeral answer goes to its channel and thread.
  container: z.object({ channel_id: slackId, message_ts: slackTs, thread_ts: slackTs.optional() }),
  message: z.object({ thread_ts: slackTs.optional() }).optional(),
  // One per click; Slack's bounds (action_id 255 characters, value 2,000).
  actions: z.array(z.object({ action_id: z.string().max(255), value: z.string().max(2000).optional() })).min(1).max(25),
});

/** A slash command's fields, of those Slack sends; others (token, team_domain, user_name, ...) are not read. */
export const slashCommand = z.object({
  command: z.string().regex(/^\/\S{1,64}$/, "must be a slash command's name"),
  text: z.string().max(4000),
  team_id: slackId,
  user_id: slackId,
  channel_id: slackId,
  trigger_id: triggerId,
  response_url: z.string().max(2000),
});

export type BlockActions = z.infer<typeof blockActions>;
export type SlashCommand = z.infer<typeof slashCommand>;
