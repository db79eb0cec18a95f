import type { PaginationOptions } from "convex/server";
import type { Value } from "convex/values";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import type { ChatRole } from "../../src/chat/roles";
import { LIMITS } from "../../src/limits";
import { checkText } from "../../src/text";
import { valueOf } from "./errors";
import { checkStorableValue } from "./values";

/** Appends a message to a session and marks the session as updated. */
export async function appendMessage(
  ctx: MutationCtx,
  session: Doc<"chat_sessions">,
  message: { role: ChatRole; content: string; metadata?: Value },
): Promise<Id<"chat_messages">> {
  const content = valueOf(
    checkText("content", message.content, { maxBytes: LIMITS.contentBytes }),
  );
  const metadata =
    message.metadata === undefined
      ? undefined
      : valueOf(checkStorableValue("metadata", message.metadata, LIMITS.valueBytes));
  const now = Date.now();
  const messageId = await ctx.db.insert("chat_messages", {
    sessionId: session._id,
    role: message.role,
    content,
    metadata,
    createdAt: now,
  });
  await ctx.db.patch("chat_sessions", session._id, { updatedAt: now });
  return messageId;
}

/** A session's messages, oldest first. */
export async function listMessages(
  ctx: QueryCtx,
  sessionId: Id<"chat_sessions">,
  paginationOpts: PaginationOptions,
) {
  return await ctx.db
    .query("chat_messages")
    .withIndex("by_sessionId_createdAt", (q) => q.eq("sessionId", sessionId))
    .order("asc")
    .paginate(paginationOpts);
}
