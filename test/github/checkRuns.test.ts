import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api } from "../../convex/_generated/api";
import type { FakeGitHub } from "../../fakes/github";
import { newBackend } from "../helpers/backend";
import { asService } from "../helpers/callers";
import { OUTBOX_ITERATIONS, settle, withFakeClock } from "../helpers/clock";
import { configureGithubApp, TEST_APP_ID } from "../helpers/github/app";
import { CANCEL, HEAD, orderOnPullRequest, post, pullRequest, RETRY, setStatus, TARGET } from "../helpers/github/checkRuns";
import { newSession, newWorkOrder } from "../helpers/records";

/*
 * A work order's check run on its pull request's head commit
 * (docs/contract.md#github-both-ways-the-app-comments-in-replies-and-check-runs-out),
 * against the fake GitHub API, with GitHub's own payloads (@octokit/webhooks-examples).
 * Its buttons pressed on GitHub: test/github/checkRunActions.test.ts.
 */

let github: FakeGitHub;
const NEW_HEAD = "0123456789abcdef0123456789abcdef01234567";

withFakeClock({ now: new Date("2026-01-05T10:00:00Z") });
beforeEach(() => {
  github = configureGithubApp();
});
afterEach(() => {
  expect(github.violations).toEqual([]);
});

const checkRunCalls = () => github.calls.filter((call) => call.path.includes("/check-runs"));

describe("a check run per work order", () => {
  test("pull_request opened through the App makes the order's check run on its head commit: queued, with Cancel", async () => {
    const t = newBackend();
    const workOrderId = await orderOnPullRequest(t);
    expect(github.checkRuns).toEqual([
      {
        id: expect.any(Number),
        repository: "codertocat/hello-world",
        name: "Jangar: SSO login",
        head_sha: HEAD,
        external_id: workOrderId,
        status: "queued",
        output: { title: "submitted", summary: "created" },
        actions: [CANCEL],
      },
    ]);
    expect(checkRunCalls().map((call) => [call.method, call.path, call.auth])).toEqual([
      ["POST", "/repos/codertocat/hello-world/check-runs", { installationId: 1 }],
    ]);
  });

  test("it is updated in place through accepted, running and succeeded, its summary the latest reason", async () => {
    const t = newBackend();
    const workOrderId = await orderOnPullRequest(t);
    const [{ id }] = github.checkRuns;
    await setStatus(t, workOrderId, "accepted", "picked up by a worker");
    expect(github.checkRuns[0]).toMatchObject({ status: "in_progress", output: { title: "accepted", summary: "picked up by a worker" }, actions: [CANCEL] });
    await setStatus(t, workOrderId, "running");
    expect(github.checkRuns[0]).toMatchObject({ status: "in_progress", output: { title: "running" }, actions: [CANCEL] });
    await setStatus(t, workOrderId, "succeeded", "all tests pass");
    expect(github.checkRuns).toEqual([
      expect.objectContaining({ id, status: "completed", conclusion: "success", output: { title: "succeeded", summary: "all tests pass" }, actions: [] }),
    ]);
    expect(checkRunCalls().map((call) => call.method)).toEqual(["POST", "PATCH", "PATCH", "PATCH"]);
    expect(checkRunCalls().slice(1).every((call) => call.path === `/repos/codertocat/hello-world/check-runs/${id}`)).toBe(true);
  });

  test.each([
    ["failed", "failure", [RETRY]],
    ["canceled", "cancelled", []],
  ] as const)("%s: completed with %s, and its buttons", async (status, conclusion, actions) => {
    const t = newBackend();
    const workOrderId = await orderOnPullRequest(t);
    await setStatus(t, workOrderId, "running");
    await setStatus(t, workOrderId, status, "the end");
    expect(github.checkRuns).toEqual([expect.objectContaining({ status: "completed", conclusion, output: { title: status, summary: "the end" }, actions })]);
  });

  test("changes made while an update is queued go out as one request, showing the order as it is then", async () => {
    const t = newBackend();
    const workOrderId = await orderOnPullRequest(t);
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: "accepted" });
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: "running", reason: "step 1" });
    await settle(t, OUTBOX_ITERATIONS);
    expect(checkRunCalls().map((call) => call.method)).toEqual(["POST", "PATCH"]);
    expect(github.checkRuns[0]).toMatchObject({ status: "in_progress", output: { title: "running", summary: "step 1" } });
  });

  test("a new head commit (synchronize) gets a new check run; later changes update the new one", async () => {
    const t = newBackend();
    const workOrderId = await orderOnPullRequest(t);
    await post(t, "pull_request", pullRequest("synchronize", NEW_HEAD));
    expect(github.checkRuns.map((run) => [run.head_sha, run.status])).toEqual([
      [HEAD, "queued"],
      [NEW_HEAD, "queued"],
    ]);
    // The same head again makes nothing new.
    await post(t, "pull_request", pullRequest("synchronize", NEW_HEAD));
    await setStatus(t, workOrderId, "running");
    expect(github.checkRuns.map((run) => [run.head_sha, run.status])).toEqual([
      [HEAD, "queued"],
      [NEW_HEAD, "in_progress"],
    ]);
  });

  test("a check run made whose answer was lost (made, then 502) is found on its commit by its order's id, edited, and kept: one run, updated after", async () => {
    github.answerFor("POST /repos/codertocat/hello-world/check-runs", { status: 502, posted: true });
    const t = newBackend();
    const workOrderId = await orderOnPullRequest(t);
    expect(github.checkRuns).toEqual([expect.objectContaining({ external_id: workOrderId, head_sha: HEAD, status: "queued" })]);
    const [{ id }] = github.checkRuns;
    expect(checkRunCalls().map((call) => [call.method, call.path, call.status])).toEqual([
      ["POST", "/repos/codertocat/hello-world/check-runs", 502],
      ["GET", `/repos/codertocat/hello-world/commits/${HEAD}/check-runs`, 200],
      ["PATCH", `/repos/codertocat/hello-world/check-runs/${id}`, 200],
    ]);
    // The App's own runs on the commit, every one: the order's is found by its `external_id`.
    expect(github.callsTo("GET", /\/check-runs$/)).toMatchObject([{ auth: { installationId: 1 }, query: { app_id: String(TEST_APP_ID), filter: "all", per_page: "100" } }]);
    expect(await t.run(async (ctx) => await ctx.db.query("github_check_runs").collect())).toMatchObject([{ workOrderId, checkRunId: id, headSha: HEAD }]);

    await setStatus(t, workOrderId, "running", "step 1");
    await setStatus(t, workOrderId, "succeeded");
    expect(github.checkRuns).toEqual([expect.objectContaining({ id, status: "completed", conclusion: "success", output: expect.objectContaining({ title: "succeeded" }) })]);
    expect(checkRunCalls().slice(3).map((call) => [call.method, call.path])).toEqual([
      ["PATCH", `/repos/codertocat/hello-world/check-runs/${id}`],
      ["PATCH", `/repos/codertocat/hello-world/check-runs/${id}`],
    ]);
  });

  test("a 502 that made nothing is looked for on the commit, not found, and made then", async () => {
    github.answerFor("POST /repos/codertocat/hello-world/check-runs", { status: 502 });
    const t = newBackend();
    const workOrderId = await orderOnPullRequest(t);
    expect(checkRunCalls().map((call) => `${call.method} ${call.status}`)).toEqual(["POST 502", "GET 200", "POST 201"]);
    expect(github.checkRuns).toEqual([expect.objectContaining({ external_id: workOrderId, status: "queued" })]);
    await setStatus(t, workOrderId, "running");
    expect(github.checkRuns).toEqual([expect.objectContaining({ external_id: workOrderId, status: "in_progress" })]);
  });

  test("the name is `Jangar: <title>` cut to GitHub's 100 characters", async () => {
    const t = newBackend();
    await orderOnPullRequest(t, "x".repeat(150));
    const name = github.checkRuns[0].name as string;
    expect(name).toHaveLength(100);
    expect(name.startsWith("Jangar: xxx")).toBe(true);
  });

  test("without the App's id and key no check run is kept nor asked for", async () => {
    vi.stubEnv("GITHUB_APP_PRIVATE_KEY", "");
    const t = newBackend();
    const workOrderId = await orderOnPullRequest(t);
    await setStatus(t, workOrderId, "running");
    expect(github.calls).toEqual([]);
    expect(await t.run(async (ctx) => await ctx.db.query("github_check_runs").collect())).toEqual([]);
  });

  test("a repository's own hook (no installation) makes no check run", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "user:alice");
    await newWorkOrder(t, sessionId, { target: TARGET });
    const payload = pullRequest("opened");
    delete payload.installation;
    await post(t, "pull_request", payload);
    expect(github.calls).toEqual([]);
  });
});
