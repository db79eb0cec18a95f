// @vitest-environment node
/**
 * What a GitHub comment costs (`npm run bench`; reduced in `npm test`):
 * documents read and written by the delivery of a comment that mentions the
 * App (which queues its `eyes` reaction), by an assistant's reply in the
 * session bound to its thread (which queues the reply's comment), and by
 * the outbox's claim and record steps that send each; and the requests
 * made to GitHub. With few and with many unrelated rows (other sessions
 * bound to other threads of the same repository and installation, their
 * messages' origins, sent rows in the same lane, other orders' check runs).
 * And a work order's check run: made when a pull request through the App
 * reaches the order, and updated on a status change. docs/performance.md
 * holds the figures.
 */
import { afterEach, expect, test, vi } from "vitest";
import { api } from "../../convex/_generated/api";
import type { FakeGitHub } from "../../fakes/github";
import { newBackend, type Backend } from "../helpers/backend";
import { outboxCosts, reportFlat, seedRows, type StepCost } from "../helpers/bench/outboxCost";
import { asService } from "../helpers/callers";
import { settle, withFakeClock } from "../helpers/clock";
import { configureGithubApp } from "../helpers/github/app";
import { issueCommentOnAcme } from "../helpers/github/comments";
import { examplesOf } from "../helpers/github/examples";
import { postGithub } from "../helpers/senders/github";

const SIZES = (process.env.BENCH_SIZES ?? "100,2000").split(",").map(Number);
// The repository and installation of issueCommentOnAcme.
const REPOSITORY = "acme/api";
const INSTALLATION = 42;

let github: FakeGitHub;

withFakeClock();
const costsOf = outboxCosts("github");
afterEach(() => {
  expect(github.violations).toEqual([]);
});

/** `count` unrelated rows: other sessions bound to other threads of the repository, their replies' origins, and sent rows in the installation's lane. */
async function seedUnrelated(t: Backend, count: number) {
  await t.run(async (ctx) => {
    await ctx.db.insert("github_installations", { repository: REPOSITORY, installationId: INSTALLATION });
  });
  await seedRows(t, "github", count, async (ctx, i, now) => {
    const sessionId = await ctx.db.insert("chat_sessions", { userId: `github:other-${i}`, title: `Other ${i}`, createdAt: now, updatedAt: now });
    const messageId = await ctx.db.insert("chat_messages", { sessionId, role: "assistant", content: `reply ${i}`, createdAt: now });
    const number = 1000 + i;
    await ctx.db.insert("github_threads", { repository: i % 2 === 0 ? REPOSITORY : `acme/other-${i % 50}`, number, sessionId, lastCommentAt: now });
    await ctx.db.insert("github_installations", { repository: `acme/other-${i}`, installationId: 1000 + i });
    await ctx.db.insert("outbox", {
      destination: "github",
      lane: `installation:${INSTALLATION}`,
      ordered: true,
      enqueuedAt: now,
      request: { kind: "comment", installationId: INSTALLATION, thread: { repository: REPOSITORY, number }, messageId, part: 1, parts: 1, text: `reply ${i}` },
      status: i % 10 === 0 ? "failed" : "sent",
      attempts: 1,
      method: "comment",
      result: String(3_000_000_000 + i),
      finishedAt: now,
    });
    await ctx.db.insert("chat_message_origins", { externalId: `github:comment:${3_000_000_000 + i}`, messageId, outbound: true });
    if (i % 10 === 0) {
      const order = { sessionId, workflowType: "codex-implement", prompt: "Other", title: `Other ${i}`, requestedBy: `github:other-${i}`, createdAt: now, updatedAt: now };
      const workOrderId = await ctx.db.insert("work_orders", { ...order, status: "running" });
      await ctx.db.insert("github_check_runs", { workOrderId, repository: REPOSITORY, number, headSha: "f".repeat(40), checkRunId: 4_000_000_000 + i });
    }
  });
}

/** GitHub's `pull_request` `opened` through the App, on acme/api: pull request `number` from `branch`, at `head`. */
function pullRequestOnAcme(number: number, branch: string, head: string) {
  const payload = examplesOf("pull_request", "opened").find((example) => example.installation)!;
  payload.installation = { id: INSTALLATION };
  payload.repository.full_name = REPOSITORY;
  Object.assign(payload.pull_request, { number, html_url: `https://github.com/${REPOSITORY}/pull/${number}`, body: null });
  Object.assign(payload.pull_request.head, { ref: branch, sha: head, repo: { full_name: REPOSITORY } });
  return payload;
}

async function measure(unrelated: number): Promise<StepCost[]> {
  github = configureGithubApp();
  // Each request GitHub receives, logged in the order of the cost lines around it.
  github.onCall = (event) => {
    if ("call" in event) console.log(`request ${event.call.method} ${event.call.path.replace(/\d{6,}/g, "{id}")}`);
  };
  const t = newBackend();
  await seedUnrelated(t, unrelated);
  // Counter shards chosen alike in every run.
  vi.spyOn(Math, "random").mockReturnValue(0);
  const steps = [
    ...(await costsOf(t, "comment mentioning the App (new thread; queues its reaction)", () =>
      postGithub(t, { event: "issue_comment", payload: issueCommentOnAcme(1001, "@jangar why does SSO fail on Safari?") }),
    )),
    ...(await costsOf(t, "comment mentioning the App (bound thread; queues its reaction)", () =>
      postGithub(t, { event: "issue_comment", payload: issueCommentOnAcme(1002, "@jangar and on Firefox?") }),
    )),
  ];
  const { page } = await asService(t).query(api.chatSessions.list, { userId: "github:alice", paginationOpts: { numItems: 1, cursor: null } });
  steps.push(
    ...(await costsOf(t, "reply (chatMessages:append, assistant; queues its comment)", () =>
      asService(t).mutation(api.chatMessages.append, { sessionId: page[0]._id, role: "assistant", content: "The cookie is SameSite=Strict." }),
    )),
  );
  // A work order on a branch of the repository: its pull request, through the App, makes its check run; a status change updates it.
  const workOrderId = await asService(t).mutation(api.workOrders.create, {
    sessionId: page[0]._id,
    workflowType: "codex-implement",
    prompt: "Make SSO work on Safari.",
    title: "SSO on Safari",
    target: { targetRepo: REPOSITORY, targetBranch: "sso-safari" },
  });
  await settle(t, 1000);
  steps.push(
    ...(await costsOf(t, "pull_request opened through the App (queues the order's check run)", () =>
      postGithub(t, { event: "pull_request", payload: pullRequestOnAcme(7, "sso-safari", "a".repeat(40)) }),
    )),
    ...(await costsOf(t, "status change (workOrders:updateStatus; queues its update)", () =>
      asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: "running" }),
    )),
  );
  expect(github.reactions).toHaveLength(2);
  expect(github.comments).toHaveLength(1);
  expect(github.checkRuns).toEqual([expect.objectContaining({ external_id: workOrderId, status: "in_progress" })]);
  return steps;
}

test(`a GitHub comment and its reply read as many documents with ${SIZES.join(" as with ")} unrelated rows`, async () => {
  const runs = [];
  for (const size of SIZES) {
    runs.push({ size, costs: await measure(size) });
  }
  reportFlat(runs, { file: "github-cost.md", bytes: "bytesRead", requests: "requests to GitHub" });
}, 600_000);
