import { paginationOptsValidator, paginationResultValidator } from "convex/server";
import { v } from "convex/values";
import schema from "./schema";
import { callerMutation, callerQuery, emptyPage } from "./model/callers";
import { appendMessage, checkMessage, listMessages } from "./model/chatMessages";
import { valueOf } from "./model/errors";
import { findSession, requireSession } from "./model/chatSessions";
import { vChatRole } from "./model/validators";

export const append = callerMutation({
  args: {
    sessionId: v.id("chat_sessions"),
    role: vChatRole,
    content: v.string(),
    metadata: v.optional(v.any()),
  },
  returns: v.id("chat_messages"),
  handler: async (ctx, { sessionId, ...message }) => {
    const session = await requireSession(ctx, ctx.caller, sessionId);
    return await appendMessage(ctx, session, valueOf(checkMessage(message)));
  },
});

export const listBySession = callerQuery({
  args: { sessionId: v.id("chat_sessions"), paginationOpts: paginationOptsValidator },
  returns: paginationResultValidator(schema.doc("chat_messages")),
  handler: async (ctx, { sessionId, paginationOpts }) => {
    const session = await findSession(ctx, ctx.caller, sessionId);
    return session === null ? emptyPage() : await listMessages(ctx, sessionId, paginationOpts);
  },
});
