import { paginationOptsValidator, paginationResultValidator } from "convex/server";
import { v } from "convex/values";
import schema from "./schema";
import { oneOf } from "../src/check";
import { CHAT_ROLES } from "../src/chat/roles";
import { callerMutation, callerQuery, callOrigin, emptyPage } from "./model/platform/callers";
import { appendMessage, checkMessage, listMessages } from "./model/chat/messages";
import { valueOf } from "./model/platform/errors";
import { findSession, requireSession } from "./model/chat/sessions";

export const append = callerMutation({
  args: {
    ...schema.tables.chat_messages.validator.pick("sessionId", "content", "metadata").fields,
    // Checked in the handler, so that an unknown role is INVALID_ARGUMENT (docs/contract.md#callers-and-errors).
    role: v.string(),
  },
  returns: v.id("chat_messages"),
  handler: async (ctx, { sessionId, role, ...message }) => {
    const checked = valueOf(checkMessage({ role: valueOf(oneOf("role", role, CHAT_ROLES)), ...message }));
    const session = await requireSession(ctx, ctx.caller, sessionId);
    return await appendMessage(ctx, session, checked, callOrigin(ctx.caller));
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
