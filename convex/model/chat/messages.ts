import type { PaginationOptions } from "convex/server";
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../_generated/server";
import type { ChatRole } from "../../../src/chat/roles";
import { LIMITS } from "../../../src/limits";
import { accept, type Check } from "../../../src/check";
import { checkStorableField } from "../../../src/storable";
import { checkText } from "../../../src/text";
import { queueGithubReply } from "../github/outbound";
import { queueSlackReply } from "../slack/replies";
import { pageOf } from "../platform/pages";
import type { ChangeOrigin } from "../platform/callers";
import { recordEvent } from "../events/record";

export type NewMessage = Pick<Doc<"chat_messages">, "role" | "content" | "metadata">;

/** A message as it would be stored, or what is wrong with it. */
export function checkMessage(message: { role: ChatRole; content: string; metadata?: unknown }): Check<NewMessage> {
  const content = checkText("content", message.content, { maxBytes: LIMITS.contentBytes });
  if (!content.ok) {
    return content;
  }
  if (message.metadata === undefined) {
    return accept({ role: message.role, content: content.value });
  }
  const metadata = checkStorableField("metadata", message.metadata, LIMITS.valueBytes);
  return metadata.ok ? accept({ role: message.role, content: content.value, metadata: metadata.value }) : metadata;
}

/**
 * Appends a message (checked with checkMessage) to a session and marks the
 * session as updated; an assistant's message is queued for the session's
 * Slack and GitHub threads, and the message is an event unless a service
 * appended it.
 */
export async function appendMessage(
  ctx: MutationCtx,
  session: Doc<"chat_sessions">,
  message: NewMessage,
  origin: ChangeOrigin,
): Promise<Id<"chat_messages">> {
  const now = Date.now();
  const messageId = await ctx.db.insert("chat_messages", {
    sessionId: session._id,
    ...message,
    createdAt: now,
  });
  await ctx.db.patch("chat_sessions", session._id, { updatedAt: now });
  if (message.role === "assistant") {
    await queueSlackReply(ctx, session._id, messageId, message.content);
    await queueGithubReply(ctx, session._id, messageId, message.content);
  }
  await recordEvent(ctx, origin, {
    type: "chat.message.created",
    data: { sessionId: session._id, messageId, ...message, source: origin.source },
  });
  return messageId;
}

/** A session's messages, oldest first, a bounded page at a time. */
export async function listMessages(ctx: QueryCtx, sessionId: Id<"chat_sessions">, options: PaginationOptions) {
  return await pageOf(ctx.db.query("chat_messages").withIndex("by_sessionId_createdAt", (q) => q.eq("sessionId", sessionId)), "asc", options);
}
