import { defineTable } from "convex/server";
import { v } from "convex/values";
import { orderShownAt } from "../../outbox/tables";

/*
 * The tables of the GitHub side (part of convex/schema.ts): threads bound
 * to sessions, the App installation of each repository, work orders' check
 * runs, and the deliveries the App asked GitHub to redeliver.
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

  // A work order's check run (docs/contract.md#github-both-ways-the-app-comments-in-replies-and-check-runs-out):
  // the pull request whose latest `pull_request` delivery named the order,
  // and that delivery's head commit (`headSha`), on which the check run is.
  // `checkRunId` is set once GitHub made it, and cleared when a new head
  // commit asks for a new one. `latestRow` is the last outbox row queued
  // to bring it up to date: while that row is still queued, changes
  // collapse into it, as it is rendered when sent (as a Slack card's).
  // One row per order, written by model/github/checkRuns.ts and the
  // outbox's GitHub destination, never deleted.
  github_check_runs: orderShownAt({
    repository: v.string(),
    number: v.number(),
    headSha: v.string(),
    checkRunId: v.optional(v.number()),
  }).index("by_workOrderId", ["workOrderId"]),

  // A delivery of the App's hook that the sweep asked GitHub to redeliver
  // (convex/inbox/githubRedeliveries.ts): asked once, whatever came of it. `deliveryId`
  // is GitHub's id of the attempt listed, `guid` the delivery's GUID;
  // `outcome` is what GitHub answered the request: `asked` (accepted) or
  // `refused` (a 4xx, with its error). Deleted by the sweep 3 days after,
  // when GitHub no longer lists the delivery.
  github_redeliveries: defineTable({
    guid: v.string(),
    deliveryId: v.number(),
    event: v.string(),
    askedAt: v.number(),
    outcome: v.union(v.literal("asked"), v.literal("refused")),
    error: v.optional(v.string()),
  })
    .index("by_guid", ["guid"])
    .index("by_askedAt", ["askedAt"]),
};
