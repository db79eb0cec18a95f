import { v, type Infer } from "convex/values";
import type { MutationCtx } from "../../_generated/server";
import { githubApp, type GithubAnswer, type GithubRequest as AppRequest } from "../../../src/github/app";
import { githubMessageId } from "../../../src/github/messageIds";
import { commentsPath, isRepositoryName, markedBody, markedComment, reactionPath } from "../../../src/github/requests";
import { retryPolicy } from "../../../src/retry";
import { githubAppConfig } from "../../model/platform/config";
import type { GithubRequest } from "../../model/github/requests";
import { recordOrigin } from "../../model/chat/origins";
import { checkRunMade, checkRunOf } from "../../model/github/checkRuns";
import { retryOf } from "../../model/workOrders/retries";
import { madeCheckRun, renderCheckRun } from "../../../src/github/checkRuns";
import { destination, type Answer, type OutboxRow, type Prepared } from "../destination";
import { githubOutbox } from "../registry";
import { outboxRunner } from "../runner";

/*
 * The outbox's GitHub destination
 * (docs/contract.md#github-both-ways-the-app-comments-in-replies-and-check-runs-out):
 * requests made as the App's installation, a lane per installation, a
 * second apart. Every request goes through the App client (src/github/app.ts),
 * which buys the installation's token, reads GitHub's answer (rate limits
 * and 5xx retried, any other 4xx final) and keeps no secret in it. A reply's
 * comment carries its row's marker; a comment whose outcome is unknown is
 * looked for in the thread before it is posted again. A reaction needs no
 * look: GitHub answers an `eyes` the App already gave with that one. A
 * check run is rendered from its order when its row is claimed: made on the
 * head commit the first time (its id kept), edited in place after. One
 * whose making is uncertain is looked for first among the App's check runs
 * on that commit, by its order's id (`external_id`): found, it is edited,
 * and kept as made.
 */

/** A request as the App makes it, and where to look first for what it makes (a comment, a check run) when an earlier attempt may have made it. */
const vGithubCall = v.object({
  installationId: v.number(),
  method: v.union(v.literal("POST"), v.literal("GET"), v.literal("PATCH")),
  path: v.string(),
  body: v.optional(v.any()),
  lookFirst: v.optional(v.object({ path: v.string(), marker: v.string() })),
  // A check run made: its result names the head commit it is on, as well as its id. Looked for, it is found by its order's id.
  made: v.optional(v.literal("checkRun")),
});
type Call = Infer<typeof vGithubCall>;

// How long before a row was queued its comment could carry an earlier `updated_at`: clocks differ a little.
const CLOCK_SLACK_MS = 60_000;

/** The order's check run as the order is now: made on its head commit the first time, edited in place after. */
async function checkRunCall(ctx: MutationCtx, row: OutboxRow<GithubRequest>, request: Extract<GithubRequest, { kind: "checkRun" }>): Promise<Prepared<Call>> {
  const order = await ctx.db.get("work_orders", request.workOrderId);
  const checkRun = await checkRunOf(ctx, request.workOrderId);
  if (order === null || checkRun === null) {
    return { gone: "The work order or its check run no longer exists." };
  }
  const latest = await ctx.db
    .query("work_order_status_changes")
    .withIndex("by_workOrderId_changedAt", (q) => q.eq("workOrderId", order._id))
    .order("desc")
    .first();
  const retried = order.status === "failed" ? await retryOf(ctx, order._id) : null;
  const fields = renderCheckRun({ workOrderId: order._id, title: order.title, status: order.status, reason: latest?.reason, retriedAs: retried?.retryId });
  const { installationId } = request;
  const path = `/repos/${checkRun.repository}/check-runs`;
  if (checkRun.checkRunId !== undefined) {
    return { call: { installationId, method: "PATCH", path: `${path}/${checkRun.checkRunId}`, body: fields }, method: "check_run.update" };
  }
  // Only after an attempt that may have made it: the App's check runs on the commit, every one (not the latest per name).
  const settings = githubAppConfig();
  const lookFirst =
    row.uncertain === true && settings?.ok === true
      ? { path: `/repos/${checkRun.repository}/commits/${checkRun.headSha}/check-runs?app_id=${settings.value.appId}&filter=all&per_page=100`, marker: order._id }
      : undefined;
  return { call: { installationId, method: "POST", path, body: { ...fields, head_sha: checkRun.headSha }, lookFirst, made: "checkRun" }, method: "check_run.create" };
}

function repositoryOf(request: GithubRequest): string {
  return request.kind === "comment" ? request.thread.repository : request.repository;
}

async function prepare(ctx: MutationCtx, row: OutboxRow<GithubRequest>): Promise<Prepared<Call>> {
  const { request } = row;
  const repository = repositoryOf(request);
  if (!isRepositoryName(repository)) {
    return { gone: `${repository.slice(0, 100)} is not a GitHub repository name.` };
  }
  switch (request.kind) {
    case "reaction":
      return {
        call: { installationId: request.installationId, method: "POST", path: reactionPath(repository, request.subject, request.id), body: { content: "eyes" } },
        method: "reaction",
      };
    case "comment": {
      const path = commentsPath(request.thread);
      const since = new Date(row.enqueuedAt - CLOCK_SLACK_MS).toISOString();
      // Only after an attempt that may have posted it: the look costs a request.
      const lookFirst = row.uncertain === true ? { path: `${path}?since=${encodeURIComponent(since)}&per_page=100`, marker: row._id } : undefined;
      return {
        call: { installationId: request.installationId, method: "POST", path, body: { body: markedBody(request.text, row._id) }, lookFirst },
        method: "comment",
      };
    }
    case "checkRun":
      return await checkRunCall(ctx, row, request);
    default:
      request satisfies never;
      return { gone: "An unknown GitHub request." };
  }
}

/** The App client's answer in the outbox's words: a comment's id is its result. */
function answerOf(answer: GithubAnswer, made?: "checkRun"): Answer {
  switch (answer.kind) {
    case "ok": {
      const { id, head_sha: headSha } = (answer.body ?? {}) as { id?: unknown; head_sha?: unknown };
      if (typeof id !== "number") {
        return { kind: "sent" };
      }
      // A check run made is kept for the head it is on: `<id> <head_sha>`.
      return made === "checkRun" && typeof headSha === "string" ? { kind: "sent", result: `${id} ${headSha.slice(0, 40)}` } : { kind: "sent", result: String(id) };
    }
    case "retry":
      return answer;
    case "failed":
      return answer.status === undefined ? { kind: "failed", error: answer.error } : { kind: "failed", error: answer.error, httpStatus: answer.status };
    default:
      answer satisfies never;
      return { kind: "failed", error: "An answer the App client does not know." };
  }
}

/**
 * What GitHub says to a claimed row's request, made as its installation.
 * A comment that may already be on the thread (an earlier attempt got no
 * clear answer) is looked for first, by its marker: found, it is not posted
 * again. A check run that may already be on its commit is looked for by
 * its order's id: found, it is edited to show the order as it is now, and
 * its id kept as a made one's. When the thread or commit cannot be listed
 * for good, the request is made all the same, with a warning: it may then
 * show twice.
 */
async function send({ installationId, method, path, body, lookFirst, made }: Call, { rowId }: { rowId: string }): Promise<Answer> {
  const settings = githubAppConfig();
  if (settings === null) {
    return { kind: "failed", error: "GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY are not set on this deployment; set them, then replay the row." };
  }
  if (!settings.ok) {
    return { kind: "failed", error: `${settings.message} Then replay the row.` };
  }
  const app = githubApp(settings.value);
  const auth = { installationId };
  if (lookFirst !== undefined) {
    const listed = await app.request({ method: "GET", path: lookFirst.path as AppRequest["path"], auth });
    if (listed.kind === "retry") {
      return listed;
    }
    const found = listed.kind !== "ok" ? undefined : made === "checkRun" ? madeCheckRun(listed.body, lookFirst.marker) : markedComment(listed.body, lookFirst.marker);
    if (found !== undefined && made === "checkRun") {
      const { head_sha: _head, ...fields } = body as Record<string, unknown>;
      return answerOf(await app.request({ method: "PATCH", path: `${path}/${found}` as AppRequest["path"], body: fields, auth }), made);
    }
    if (found !== undefined) {
      return { kind: "sent", result: String(found) };
    }
    if (listed.kind === "failed") {
      const where = made === "checkRun" ? "its commit's check runs" : "its thread";
      console.warn(`githubOutbox: row ${rowId} may already be posted, but ${where} cannot be listed (${listed.error}); posting it again`);
    }
  }
  return answerOf(await app.request({ method, path: path as AppRequest["path"], body, auth }), made);
}

/** A reply's comment is that chat message at GitHub: the App's webhook of it is never appended. A check run made is the order's from then on. */
async function sent(ctx: MutationCtx, row: OutboxRow<GithubRequest>, id: string | undefined) {
  if (row.request.kind === "comment" && id !== undefined && /^\d{1,20}$/.test(id)) {
    await recordOrigin(ctx, githubMessageId("comment", Number(id)), row.request.messageId);
  }
  const made = row.request.kind === "checkRun" && row.method === "check_run.create" ? /^(\d{1,20}) ([0-9a-f]{40})$/i.exec(id ?? "") : null;
  if (made !== null && row.request.kind === "checkRun") {
    await checkRunMade(ctx, row.request.workOrderId, Number(made[1]), made[2]);
  }
}

export const github = destination({
  handle: githubOutbox,
  call: vGithubCall,
  // GitHub asks for at least a second between requests that create content.
  spacingMs: 1_000,
  // After 5 s, 20 s, 80 s, 5 min, 21 min and an hour (each less up to a quarter at random), or when GitHub's limit resets; eight attempts.
  retry: retryPolicy({ initialMs: 5_000, factor: 4, maxDelayMs: 60 * 60_000, maxAttempts: 8 }),
  prepare,
  send,
  sent,
});

export const { claimNext, recordOutcome, sendNext } = outboxRunner(github);
