import type { Command, InboundMessage, SlackThread } from "../../commands";
import { accept, reject, type Check } from "../../check";
import type { ZodError } from "zod";
import { truncate } from "../../text";
import { summarizeIssues } from "../zodIssues";
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

/** The id under which a Slack message is mirrored: one per team, channel and ts. */
export function slackMessageId(team: string, channel: string, ts: string): string {
  return `slack:${team}:${channel}:${ts}`;
}

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

/**
 * The contract's Slack rules (docs/contract.md section 4) for one event of an
 * event_callback: what to do, or why nothing is done. Whether a thread is
 * bound is only known when the commands are applied.
 */
export function readSlackEvent(
  team: string,
  event: { type: string; subtype?: unknown },
  botUserId: string | undefined,
): Check<SlackEventReading> {
  const invalid = (error: ZodError) =>
    reject<SlackEventReading>(`The ${event.type} event is not of the expected shape: ${summarizeIssues(error)}`);

  if (event.type === "app_mention") {
    const parsed = appMention.safeParse(event);
    if (!parsed.success) return invalid(parsed.error);
    const mention = parsed.data;
    if (isFromBot(mention, botUserId)) return accept({ ignored: "The mention comes from a bot." });
    const thread = { team, channel: mention.channel, threadTs: mention.thread_ts ?? mention.ts };
    return accept({
      commands: [
        {
          type: "startSlackThread",
          thread,
          userId: `slack:${team}:${mention.user}`,
          title: titleFromMention(mention.text ?? "", botUserId),
          message: inbound(team, mention.channel, thread, mention),
        },
      ],
    });
  }
  if (event.type !== "message") {
    return accept({ ignored: `Slack's ${event.type} event is not acted on.` });
  }
  if (event.subtype === "message_changed") {
    const parsed = messageChanged.safeParse(event);
    if (!parsed.success) return invalid(parsed.error);
    const changed = parsed.data;
    if (isFromBot(changed.message, botUserId)) return accept({ ignored: "The edited message comes from a bot." });
    return accept({
      commands: [
        {
          type: "editMessage",
          externalId: slackMessageId(team, changed.channel, changed.message.ts),
          content: contentOf(changed.message),
          version: sortableTs(changed.message.edited?.ts ?? changed.message.ts),
        },
      ],
    });
  }
  if (event.subtype === "message_deleted") {
    const parsed = messageDeleted.safeParse(event);
    if (!parsed.success) return invalid(parsed.error);
    const deleted = parsed.data;
    return accept({
      commands: [{ type: "removeMessage", externalId: slackMessageId(team, deleted.channel, deleted.deleted_ts) }],
    });
  }
  const parsed = channelMessage.safeParse(event);
  if (!parsed.success) return invalid(parsed.error);
  const message = parsed.data;
  if (isFromBot(message, botUserId)) return accept({ ignored: "The message comes from a bot." });
  if (!CONVERSATION_SUBTYPES.has(message.subtype)) {
    return accept({ ignored: `Slack message subtype ${message.subtype} is not acted on.` });
  }
  if (contentOf(message).trim().length === 0) {
    return accept({ ignored: "The message has no text or files." });
  }
  const thread = { team, channel: message.channel, threadTs: message.thread_ts ?? message.ts };
  return accept({
    commands: [{ type: "appendSlackMessage", thread, message: inbound(team, message.channel, thread, message) }],
  });
}
