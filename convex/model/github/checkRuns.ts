import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../_generated/server";
import { enqueue } from "../../outbox/enqueue";
import { githubOutbox } from "../../outbox/registry";
import { githubPostingEnabled } from "../platform/config";
import { installationOf } from "./installations";
import { installationLane } from "./requests";

/*
 * Work orders' check runs
 * (docs/contract.md#github-both-ways-the-app-comments-in-replies-and-check-runs-out):
 * one per order, on the head commit of the pull request whose latest
 * `pull_request` delivery named it. Synced where the order's Slack card is
 * (its status changes, a pull request linked, a retry), through the
 * outbox's GitHub destination, which renders it when it sends: changes
 * made while an update is still queued collapse into it. Without the App's
 * id and key nothing is kept nor queued.
 */

export type PullRequestHead = { repository: string; number: number; headSha: string };

export async function checkRunOf(ctx: QueryCtx, workOrderId: Id<"work_orders">) {
  return await ctx.db
    .query("github_check_runs")
    .withIndex("by_workOrderId", (q) => q.eq("workOrderId", workOrderId))
    .unique();
}

/**
 * Brings an order's check run up to date: an update is queued unless the
 * latest one is still queued (it shows this change too when sent). An
 * order on no pull request's head, or on a repository no App delivery
 * named an installation for, has none.
 */
export async function syncCheckRun(ctx: MutationCtx, order: { _id: Id<"work_orders"> }, known?: Doc<"github_check_runs"> | null) {
  if (!githubPostingEnabled()) {
    return;
  }
  const checkRun = known === undefined ? await checkRunOf(ctx, order._id) : known;
  if (checkRun === null) {
    return;
  }
  const latest = checkRun.latestRow === undefined ? null : await ctx.db.get("outbox", checkRun.latestRow);
  if (latest?.status === "queued") {
    return;
  }
  const installationId = await installationOf(ctx, checkRun.repository);
  if (installationId === null) {
    return;
  }
  const request = { kind: "checkRun" as const, installationId, repository: checkRun.repository, workOrderId: order._id };
  const [rowId] = await enqueue(ctx, githubOutbox, installationLane(installationId), [{ request }]);
  await ctx.db.patch("github_check_runs", checkRun._id, { latestRow: rowId });
}

/**
 * Notes the head commit of the pull request a `pull_request` delivery
 * named the order on. A new head (a new pull request, or `synchronize`)
 * gets a new check run: the one on the old head is left as it last was.
 * Returns the row written, or null when nothing changed.
 */
export async function noteHead(ctx: MutationCtx, order: { _id: Id<"work_orders"> }, head: PullRequestHead): Promise<Id<"github_check_runs"> | null> {
  if (!githubPostingEnabled()) {
    return null;
  }
  const checkRun = await checkRunOf(ctx, order._id);
  if (checkRun !== null && checkRun.headSha === head.headSha && checkRun.repository === head.repository && checkRun.number === head.number) {
    return null;
  }
  if (checkRun === null) {
    const rowId = await ctx.db.insert("github_check_runs", { workOrderId: order._id, ...head });
    await syncCheckRun(ctx, order, await ctx.db.get("github_check_runs", rowId));
    return rowId;
  }
  await ctx.db.patch("github_check_runs", checkRun._id, { ...head, checkRunId: undefined });
  await syncCheckRun(ctx, order, { ...checkRun, ...head, checkRunId: undefined });
  return checkRun._id;
}

/** A retry's copy shows on the same head as its failed order, as a check run of its own. */
export async function copyHead(ctx: MutationCtx, from: Id<"work_orders">, to: { _id: Id<"work_orders"> }) {
  const checkRun = await checkRunOf(ctx, from);
  if (checkRun !== null) {
    const { repository, number, headSha } = checkRun;
    await noteHead(ctx, to, { repository, number, headSha });
  }
}

/**
 * GitHub made the check run of a row sent for `headSha`: kept as the
 * order's, unless a newer head asked for another one meanwhile.
 */
export async function checkRunMade(ctx: MutationCtx, workOrderId: Id<"work_orders">, checkRunId: number, headSha: string) {
  const checkRun = await checkRunOf(ctx, workOrderId);
  if (checkRun !== null && checkRun.headSha === headSha && checkRun.checkRunId === undefined) {
    await ctx.db.patch("github_check_runs", checkRun._id, { checkRunId });
  }
}
