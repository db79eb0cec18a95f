import { defineTable } from "convex/server";
import { v } from "convex/values";

/*
 * The tables of the GitHub side (part of convex/schema.ts): threads bound
 * to sessions, and the App installation of each repository.
 */
export const githubTables = {
  // An issue or pull request (`owner/repo#number`, the repository in lower
  // case) bound to the chat session its comments are appended to: at most
  // one session per thread; a session may hold several threads (an order's
  // issue and its pull request). `lastCommentAt` is when a comment of the
  // thread was last appended: a session's replies go to the thread spoken in
  // last. Written by model/github/threads.ts, never deleted.
  github_threads: defineTable({
    repository: v.string(),
    number: v.number(),
    sessionId: v.id("chat_sessions"),
    lastCommentAt: v.number(),
  })
    .index("by_repository_number", ["repository", "number"])
    .index("by_sessionId_lastCommentAt", ["sessionId", "lastCommentAt"]),

  // The GitHub App installation a repository's latest delivery named (App
  // hooks carry `installation.id`): the App's requests for the repository
  // are made as it. One row per repository (`owner/repo`, lower case),
  // written by model/github/installations.ts when a delivery names another
  // installation than the row holds, never deleted.
  github_installations: defineTable({
    repository: v.string(),
    installationId: v.number(),
  }).index("by_repository", ["repository"]),
};
