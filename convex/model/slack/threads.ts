import type { Id } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../_generated/server";
import type { SlackThread } from "../../../src/commands";

/** The session a Slack thread is bound to, if any. */
export async function boundSession(ctx: MutationCtx, thread: SlackThread) {
  const binding = await ctx.db
    .query("slack_threads")
    .withIndex("by_team_channel_threadTs", (q) =>
      q.eq("team", thread.team).eq("channel", thread.channel).eq("threadTs", thread.threadTs),
    )
    .unique();
  return binding === null ? null : await ctx.db.get("chat_sessions", binding.sessionId);
}

export async function bindThread(ctx: MutationCtx, thread: SlackThread, sessionId: Id<"chat_sessions">) {
  return await ctx.db.insert("slack_threads", { ...thread, sessionId });
}

/** The Slack thread a session is bound to, if any: where its replies and cards go. */
export async function threadOfSession(ctx: QueryCtx, sessionId: Id<"chat_sessions">): Promise<SlackThread | null> {
  const binding = await ctx.db
    .query("slack_threads")
    .withIndex("by_sessionId", (q) => q.eq("sessionId", sessionId))
    .first();
  return binding === null ? null : { team: binding.team, channel: binding.channel, threadTs: binding.threadTs };
}
