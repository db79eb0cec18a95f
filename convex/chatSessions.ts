import { paginationOptsValidator, paginationResultValidator } from "convex/server";
import { v } from "convex/values";
import schema from "./schema";
import { attributedUser, callerMutation, callerQuery, listedUser } from "./model/platform/callers";
import { createSession, findSession, listSessions } from "./model/chat/sessions";

const vSession = schema.doc("chat_sessions");

export const create = callerMutation({
  args: { ...schema.tables.chat_sessions.validator.pick("title").fields, userId: v.optional(v.string()) },
  returns: v.id("chat_sessions"),
  handler: async (ctx, { title, userId }) => {
    const owner = attributedUser(ctx.caller, "userId", userId);
    return await createSession(ctx, { userId: owner, title });
  },
});

export const list = callerQuery({
  args: { paginationOpts: paginationOptsValidator, userId: v.optional(v.string()) },
  returns: paginationResultValidator(vSession),
  handler: async (ctx, { paginationOpts, userId }) => {
    return await listSessions(ctx, listedUser(ctx.caller, userId), paginationOpts);
  },
});

export const get = callerQuery({
  args: { sessionId: v.id("chat_sessions") },
  returns: v.union(vSession, v.null()),
  handler: async (ctx, { sessionId }) => await findSession(ctx, ctx.caller, sessionId),
});
