import type { Command, InboundMessage, SlackThread } from "../../commands";
import { accept, type Check } from "../../check";
import { slackMessageId } from "../../slack/messageIds";
import { truncate } from "../../text";
import { rowOf, shaped, type Row } from "../table";
import {
  appMention,
  channelMessage,
  messageChanged,
  messageDeleted,
  type SlackMessage,
} from "./payloads";

// Message subtypes that carry something a person wrote into the thread.
const CONVERSATION_SUBTYPES = new Set([undefined, "thread_broadcast", "file_share"]);
const TITLE_CHARS = 80;

/**
 * A Slack `ts` ("1747214001.339029") as text that sorts in time order:
 * seconds and microseconds padded, so edits compare without float rounding.
 */
export function sortableTs(ts: string): string {
  const [seconds, micros = ""] = ts.split(".");
  return `${seconds.padStart(12, "0")}.${micros.padEnd(6, "0")}`;
}

// A user mention as Slack writes it: <@U024BE7LH> or <@U024BE7LH|name>; ids are opaque.
// No part may run over a `<`, so a failed match stops at the next mention's start:
// on any text (`<@<@<@...` included) the patterns run in linear time.
const MENTION = /<@([^<>|\s]+)(?:\|[^<>]*)?>/g;
const LEADING_MENTIONS = /^(?:\s*<@[^<>]+>)+/;

/**
 * A session title from a mention: the text without the bot's mention (the
 * mentions it starts with, and any of SLACK_BOT_USER_ID), other mentions as
 * `@U...`, at most 80 characters, never cutting a character in half.
 */
export function titleFromMention(text: string, botUserId?: string): string {
  const plain = text
    .replace(LEADING_MENTIONS, " ")
    .replace(MENTION, (_mention, userId: string) => (userId === botUserId ? " " : `@${userId}`))
    .replace(/\s+/g, " ")
    .trim();
  return plain.length === 0 ? "Slack thread" : truncate(plain, TITLE_CHARS);
}

/** What a person sees of a message: its text, or the files it shared. */
function contentOf(message: SlackMessage): string {
  const text = (message.text ?? "").trim();
  if (text.length > 0) {
    return message.text!;
  }
  const files = (message.files ?? []).map((file) => file.title ?? file.name ?? "a file");
  return files.length > 0 ? `(shared ${files.join(", ")})` : "";
}

function isFromBot(message: SlackMessage, botUserId: string | undefined): boolean {
  return Boolean(message.bot_id) || message.subtype === "bot_message" || (botUserId !== undefined && message.user === botUserId);
}

function inbound(team: string, channel: string, thread: SlackThread, message: SlackMessage): InboundMessage {
  return {
    externalId: slackMessageId(team, channel, message.ts),
    role: "user",
    content: contentOf(message),
    metadata: {
      source: "slack",
      team,
      channel,
      ts: message.ts,
      thread_ts: thread.threadTs,
      user: message.user,
    },
  };
}

export type SlackEventReading = { ignored: string } | { commands: Command[] };

type EventContext = { team: string; botUserId: string | undefined };

const commands = (...list: Command[]) => accept<SlackEventReading>({ commands: list });
// Another app or a workflow wrote it: no person to mirror (docs/contract.md#hardening-rules). Ignored, never a 400, which Slack would retry.
const NO_USER = (what: "mention" | "message") => `The ${what} has no user: another app or a workflow wrote it.`;
const ignored = (reason: string) => accept<SlackEventReading>({ ignored: reason });

/**
 * The contract's Slack rules (docs/contract.md#slack-events-api-event_callback), one row per kind
 * of event: what to do, or why nothing is done. Whether a thread is bound is
 * only known when the commands are applied.
 */
const EVENTS: Readonly<Record<string, Row<EventContext, SlackEventReading>>> = {
  app_mention: shaped("The app_mention event", appMention, (mention, { team, botUserId }) => {
    if (isFromBot(mention, botUserId)) return ignored("The mention comes from a bot.");
    if (mention.user === undefined) return ignored(NO_USER("mention"));
    const thread = { team, channel: mention.channel, threadTs: mention.thread_ts ?? mention.ts };
    return commands({
      type: "startSlackThread",
      thread,
      userId: `slack:${team}:${mention.user}`,
      title: titleFromMention(mention.text ?? "", botUserId),
      message: inbound(team, mention.channel, thread, mention),
    });
  }),
  message: shaped("The message event", channelMessage, (message, { team, botUserId }) => {
    if (isFromBot(message, botUserId)) return ignored("The message comes from a bot.");
    if (message.user === undefined) return ignored(NO_USER("message"));
    if (!CONVERSATION_SUBTYPES.has(message.subtype)) {
      return ignored(`Slack message subtype ${message.subtype} is not acted on.`);
    }
    if (contentOf(message).trim().length === 0) {
      return ignored("The message has no text or files.");
    }
    const thread = { team, channel: message.channel, threadTs: message.thread_ts ?? message.ts };
    return commands({ type: "appendSlackMessage", thread, message: inbound(team, message.channel, thread, message) });
  }),
  "message.message_changed": shaped("The message event", messageChanged, (changed, { team, botUserId }) => {
    if (isFromBot(changed.message, botUserId)) return ignored("The edited message comes from a bot.");
    return commands({
      type: "editMessage",
      externalId: slackMessageId(team, changed.channel, changed.message.ts),
      content: contentOf(changed.message),
      version: sortableTs(changed.message.edited?.ts ?? changed.message.ts),
    });
  }),
  "message.message_deleted": shaped("The message event", messageDeleted, (deleted, { team }) =>
    commands({ type: "removeMessage", externalId: slackMessageId(team, deleted.channel, deleted.deleted_ts) }),
  ),
};

/** The row an event is read by: a message's edit and its deletion have rows of their own. */
function rowName(event: { type: string; subtype?: unknown }): string {
  const ownRow = event.subtype === "message_changed" || event.subtype === "message_deleted";
  return event.type === "message" && ownRow ? `message.${event.subtype}` : event.type;
}

/** What one event of an event_callback asks for, or (for a 400) why it is not of its kind's shape. */
export function readSlackEvent(
  team: string,
  event: { type: string; subtype?: unknown },
  botUserId: string | undefined,
): Check<SlackEventReading> {
  const row = rowOf(EVENTS, rowName(event));
  return row === undefined ? ignored(`Slack's ${event.type} event is not acted on.`) : row(event, { team, botUserId });
}
