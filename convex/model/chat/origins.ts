import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx } from "../../_generated/server";
import { appendMessage, type NewMessage } from "./messages";
import type { ChangeOrigin } from "../platform/callers";

/*
 * Which chat message a sender's message became, per session: a sender's
 * message (one external id) is appended once to each session it reaches,
 * and its edits and deletion reach every copy.
 */

/** The most copies of one sender's message that its edits and deletion reach. */
const MAX_MIRRORS = 4;

/** The origin rows of a sender's message, in every session (at most `limit`). */
async function originsOf(ctx: MutationCtx, externalId: string, limit: number) {
  return await ctx.db
    .query("chat_message_origins")
    .withIndex("by_externalId_sessionId", (q) => q.eq("externalId", externalId))
    .take(limit);
}

/**
 * Whether the sender's message was appended to this session already (or
 * removed from it since), or is a post of ours there. A row written before
 * origins named their session counts for its message's session, and, its
 * message removed, for every session: what it was appended to is not known.
 */
async function appendedTo(ctx: MutationCtx, sessionId: Id<"chat_sessions">, externalId: string): Promise<boolean> {
  const own = await ctx.db
    .query("chat_message_origins")
    .withIndex("by_externalId_sessionId", (q) => q.eq("externalId", externalId).eq("sessionId", sessionId))
    .first();
  if (own !== null) {
    return true;
  }
  const unnamed = await ctx.db
    .query("chat_message_origins")
    .withIndex("by_externalId_sessionId", (q) => q.eq("externalId", externalId).eq("sessionId", undefined))
    .first();
  if (unnamed === null) {
    return false;
  }
  const message = await ctx.db.get("chat_messages", unnamed.messageId);
  return message === null || message.sessionId === sessionId;
}

/**
 * Appends a message a sender delivered to a session, once: a message
 * already appended there under its external id (or removed since) is not
 * appended again; another session it reaches gets its own copy.
 */
export async function appendFromSender(
  ctx: MutationCtx,
  session: Doc<"chat_sessions">,
  externalId: string,
  message: NewMessage,
  origin: ChangeOrigin,
): Promise<Id<"chat_messages"> | null> {
  if (await appendedTo(ctx, session._id, externalId)) {
    return null;
  }
  const messageId = await appendMessage(ctx, session, message, origin);
  await ctx.db.insert("chat_message_origins", { externalId, messageId, sessionId: session._id });
  return messageId;
}

/**
 * The messages still mirrored under this external id (in each session it
 * reached, at most MAX_MIRRORS): what a sender's edit or deletion changes.
 * A post of ours is not a mirror (the chat message is the original), so
 * deleting one part of a reply in Slack never removes or rewrites the
 * assistant's message.
 */
export async function mirroredMessages(ctx: MutationCtx, externalId: string) {
  const mirrors: { origin: Doc<"chat_message_origins">; message: Doc<"chat_messages"> }[] = [];
  for (const origin of await originsOf(ctx, externalId, MAX_MIRRORS)) {
    const message = origin.removedAt !== undefined || origin.outbound === true ? null : await ctx.db.get("chat_messages", origin.messageId);
    if (message !== null) {
      mirrors.push({ origin, message });
    }
  }
  return mirrors;
}

/**
 * Records a message of ours that a sender now holds under `externalId` (a
 * reply Slack posted), so that the sender's echo of it is not appended again.
 */
export async function recordOrigin(ctx: MutationCtx, externalId: string, messageId: Id<"chat_messages">) {
  const message = await ctx.db.get("chat_messages", messageId);
  if (message === null || !(await appendedTo(ctx, message.sessionId, externalId))) {
    await ctx.db.insert("chat_message_origins", { externalId, messageId, sessionId: message?.sessionId, outbound: true });
  }
}
