import type { PaginationOptions } from "convex/server";
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../_generated/server";
import { LIMITS } from "../../../src/limits";
import { checkText } from "../../../src/text";
import { mayAccess, refusalHint, type Caller } from "../platform/callers";
import { foundOrThrow, valueOf } from "../platform/errors";
import { pageOf } from "../platform/pages";

/** The session, or null when it does not exist or the caller may not see it. */
export async function findSession(ctx: QueryCtx, caller: Caller, sessionId: Id<"chat_sessions">): Promise<Doc<"chat_sessions"> | null> {
  const session = await ctx.db.get("chat_sessions", sessionId);
  return session !== null && mayAccess(caller, session.userId) ? session : null;
}

export async function requireSession(ctx: QueryCtx, caller: Caller, sessionId: Id<"chat_sessions">) {
  return foundOrThrow(await findSession(ctx, caller, sessionId), `Chat session ${sessionId}`, refusalHint(caller));
}

export async function createSession(
  ctx: MutationCtx,
  fields: Pick<Doc<"chat_sessions">, "userId" | "title">,
): Promise<Id<"chat_sessions">> {
  const title = valueOf(checkText("title", fields.title, { maxChars: LIMITS.titleChars }));
  const now = Date.now();
  return await ctx.db.insert("chat_sessions", {
    userId: fields.userId,
    title,
    createdAt: now,
    updatedAt: now,
  });
}

/** A user's sessions, most recently updated first, a bounded page at a time. */
export async function listSessions(ctx: QueryCtx, userId: string, options: PaginationOptions) {
  return await pageOf(ctx.db.query("chat_sessions").withIndex("by_userId_updatedAt", (q) => q.eq("userId", userId)), "desc", options);
}
