import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../_generated/server";
import type { Command, GithubThread } from "../../../src/commands";
import { LIMITS } from "../../../src/limits";
import { checkText } from "../../../src/text";
import type { Applied } from "../effects/report";
import { createSession } from "../chat/sessions";

type GithubComment = Extract<Command, { type: "appendGithubComment" }>;

// The orders most recently linked to an issue or pull request that binding reads (each read whole).
const LINKED_ORDERS_READ = 3;

async function bindingOf(ctx: QueryCtx, thread: GithubThread) {
  return await ctx.db
    .query("github_threads")
    .withIndex("by_repository_number", (q) => q.eq("repository", thread.repository).eq("number", thread.number))
    .unique();
}

/**
 * The session of the most recently created order linked to this issue or
 * pull request: the newest live order (from the live index, unread), or
 * one of the orders linked to it last, if created later.
 */
async function linkedSession(ctx: QueryCtx, link: GithubComment["link"]): Promise<Doc<"chat_sessions"> | null> {
  const live = await ctx.db
    .query("work_order_live_links")
    .withIndex("by_kind_value_orderCreatedAt", (q) => q.eq("kind", link.kind).eq("value", link.value))
    .order("desc")
    .first();
  let newest: { workOrderId: Id<"work_orders">; createdAt: number } | null =
    live === null ? null : { workOrderId: live.workOrderId, createdAt: live.orderCreatedAt };
  const linked = await ctx.db
    .query("work_order_links")
    .withIndex("by_kind_value", (q) => q.eq("kind", link.kind).eq("value", link.value))
    .order("desc")
    .take(LINKED_ORDERS_READ);
  for (const { workOrderId } of linked) {
    const order = workOrderId === newest?.workOrderId ? null : await ctx.db.get("work_orders", workOrderId);
    if (order !== null && (newest === null || order.createdAt > newest.createdAt)) {
      newest = { workOrderId, createdAt: order.createdAt };
    }
  }
  const order = newest === null ? null : await ctx.db.get("work_orders", newest.workOrderId);
  return order === null ? null : await ctx.db.get("chat_sessions", order.sessionId);
}

/**
 * The session a comment goes to: the thread's session (with its binding,
 * to mark when the comment is appended); for a thread not yet bound, the
 * session of the order linked to its issue or pull request, else a new one
 * for the comment's author (null, and the reason skipped, when the title
 * cannot be one), to which the thread is then bound.
 */
export async function sessionOfThread(
  ctx: MutationCtx,
  applied: Applied,
  command: GithubComment,
): Promise<{ session: Doc<"chat_sessions">; binding: Id<"github_threads"> | null } | null> {
  const { thread } = command;
  const name = `${thread.repository}#${thread.number}`;
  const bound = await bindingOf(ctx, thread);
  if (bound !== null) {
    const session = await ctx.db.get("chat_sessions", bound.sessionId);
    return session === null ? null : { session, binding: bound._id };
  }
  let session = await linkedSession(ctx, command.link);
  if (session === null) {
    const title = checkText("title", command.title, { maxChars: LIMITS.titleChars });
    if (!title.ok) {
      applied.skip(`GitHub thread ${name} not started: ${title.message}`);
      return null;
    }
    const sessionId = await createSession(ctx, { userId: command.userId, title: title.value });
    applied.touch("chat_sessions", sessionId, `started for GitHub thread ${name}`);
    session = (await ctx.db.get("chat_sessions", sessionId))!;
  }
  const binding = await ctx.db.insert("github_threads", { ...thread, sessionId: session._id, lastCommentAt: Date.now() });
  applied.touch("github_threads", binding, `bound ${name} to session ${session._id}`);
  return { session, binding: null };
}

/** Marks the thread as the one its session last heard from: where its replies go. */
export async function commentAppended(ctx: MutationCtx, binding: Id<"github_threads">) {
  await ctx.db.patch("github_threads", binding, { lastCommentAt: Date.now() });
}

/** The GitHub thread a session's replies go to: the one a comment was last appended from, if any. */
export async function threadOfSession(ctx: QueryCtx, sessionId: Id<"chat_sessions">): Promise<GithubThread | null> {
  const binding = await ctx.db
    .query("github_threads")
    .withIndex("by_sessionId_lastCommentAt", (q) => q.eq("sessionId", sessionId))
    .order("desc")
    .first();
  return binding === null ? null : { repository: binding.repository, number: binding.number };
}
