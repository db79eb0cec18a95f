import type { Doc } from "../../_generated/dataModel";
import type { InboundMessage } from "../../../src/commands";
import { LIMITS } from "../../../src/limits";
import { checkText } from "../../../src/text";
import { checkMessage, type NewMessage } from "../chat/messages";
import { appendFromSender, mirroredMessages } from "../chat/origins";
import { createSession } from "../chat/sessions";
import { bindThread, boundSession } from "../slack/threads";
import { recordEvent } from "../events/record";
import { senderOrigin, type Acting, type Handlers } from "./units";

/*
 * The commands that carry a sender's chat messages: appended once (by their
 * external id), edited and removed as the sender edits and removes them.
 * Each command is one unit of work.
 */

/** A sender's message as it would be stored, or null (and the reason skipped) when it cannot be. */
export function checkInbound(acting: Acting, message: InboundMessage): NewMessage | null {
  const checked = checkMessage(message);
  if (!checked.ok) {
    acting.applied.skip(`Message ${message.externalId} not appended: ${checked.message}`);
    return null;
  }
  return checked.value;
}

/** Appends a sender's checked message to a session, once: null when it was appended there before. */
export async function appendInbound(acting: Acting, session: Doc<"chat_sessions">, externalId: string, message: NewMessage) {
  const messageId = await appendFromSender(acting.ctx, session, externalId, message, senderOrigin(acting));
  if (messageId !== null) {
    acting.applied.touch("chat_messages", messageId, `appended ${externalId} to session ${session._id}`);
  }
  return messageId;
}

/** Appends a sender's message to the session it names, or notes why not: the session is missing (`missing`), or the message cannot be stored. */
async function appendToSession(acting: Acting, session: Doc<"chat_sessions"> | null, inbound: InboundMessage, missing: string) {
  const message = checkInbound(acting, inbound);
  if (session === null) {
    acting.applied.skip(missing);
  } else if (message !== null) {
    await appendInbound(acting, session, inbound.externalId, message);
  }
}

export const messageCommands: Pick<
  Handlers,
  "appendMessage" | "startSlackThread" | "appendSlackMessage" | "editMessage" | "removeMessage"
> = {
  appendMessage: {
    units: "one",
    apply: async (acting, command) => {
      const sessionId = acting.ctx.db.normalizeId("chat_sessions", command.sessionId);
      const session = sessionId === null ? null : await acting.ctx.db.get("chat_sessions", sessionId);
      await appendToSession(acting, session, command.message, `No chat session ${command.sessionId}.`);
    },
  },
  startSlackThread: {
    units: "one",
    apply: async (acting, command) => {
      const { ctx, applied } = acting;
      const message = checkInbound(acting, command.message);
      if (message === null) {
        return;
      }
      let session = await boundSession(ctx, command.thread);
      if (session === null) {
        const title = checkText("title", command.title, { maxChars: LIMITS.titleChars });
        if (!title.ok) {
          applied.skip(`Slack thread ${command.thread.threadTs} not started: ${title.message}`);
          return;
        }
        const sessionId = await createSession(ctx, { userId: command.userId, title: title.value });
        await bindThread(ctx, command.thread, sessionId);
        applied.touch("chat_sessions", sessionId, `started for Slack thread ${command.thread.channel}/${command.thread.threadTs}`);
        session = (await ctx.db.get("chat_sessions", sessionId))!;
      }
      await appendInbound(acting, session, command.message.externalId, message);
    },
  },
  appendSlackMessage: {
    units: "one",
    apply: async (acting, command) => {
      const session = await boundSession(acting.ctx, command.thread);
      await appendToSession(acting, session, command.message, `Slack thread ${command.thread.channel}/${command.thread.threadTs} is not bound to a chat session.`);
    },
  },
  editMessage: {
    units: "one",
    apply: async (acting, command) => {
      const { ctx, applied } = acting;
      const mirrors = await mirroredMessages(ctx, command.externalId);
      const content = checkText("content", command.content, { maxBytes: LIMITS.contentBytes });
      if (mirrors.length === 0) {
        applied.skip(`Message ${command.externalId} is not mirrored here.`);
        return;
      }
      if (!content.ok) {
        applied.skip(`Message ${command.externalId} not edited: ${content.message}`);
        return;
      }
      for (const { origin, message } of mirrors) {
        if (origin.editVersion !== undefined && origin.editVersion >= command.version) {
          applied.skip(`Message ${command.externalId} already has this or a later edit.`);
        } else {
          await ctx.db.patch("chat_messages", message._id, { content: content.value });
          await ctx.db.patch("chat_message_origins", origin._id, { editVersion: command.version });
          await recordEvent(ctx, senderOrigin(acting), {
            type: "chat.message.updated",
            data: { sessionId: message.sessionId, messageId: message._id, content: content.value },
          });
          applied.touch("chat_messages", message._id, `edited ${command.externalId}`);
        }
      }
    },
  },
  removeMessage: {
    units: "one",
    apply: async (acting, command) => {
      const { ctx, applied } = acting;
      const mirrors = await mirroredMessages(ctx, command.externalId);
      if (mirrors.length === 0) {
        applied.skip(`Message ${command.externalId} is not mirrored here.`);
      }
      for (const { origin, message } of mirrors) {
        await ctx.db.delete("chat_messages", message._id);
        await ctx.db.patch("chat_message_origins", origin._id, { removedAt: Date.now() });
        await recordEvent(ctx, senderOrigin(acting), { type: "chat.message.deleted", data: { sessionId: message.sessionId, messageId: message._id } });
        applied.touch("chat_messages", message._id, `removed ${command.externalId}`);
      }
    },
  },
};
