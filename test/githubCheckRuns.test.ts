import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api } from "../convex/_generated/api";
import type { Id } from "../convex/_generated/dataModel";
import type { FakeGitHub } from "../fakes/github";
import { fetchFrom } from "../fakes/http";
import { FAKE_SLACK_TOKEN, FakeSlack } from "../fakes/slack";
import { FakeTemporal, TEMPORAL_URL } from "../fakes/temporal";
import aliceMentionsBot from "../fixtures/slack/01-alice-mentions-bot.json";
import { newBackend, type Backend } from "./helpers/backend";
import { asService } from "./helpers/callers";
import { settle, withFakeClock } from "./helpers/clock";
import { configureGithubApp, TEST_APP_ID } from "./helpers/githubApp";
import { examplesOf, type Payload } from "./helpers/githubComments";
import { stored } from "./helpers/inbox";
import { newSession, newWorkOrder, orderOf, statusHistory } from "./helpers/records";
import { postGithub } from "./helpers/senders/github";
import { ALICE, clickOn, configureSlackApp, postSlackEvent, postSlackForm, slackSessionsOf } from "./helpers/senders/slack";

/*
 * A work order's check run on its pull request's head commit, and its
 * Cancel and Retry buttons pressed on GitHub
 * (docs/contract.md#github-both-ways-the-app-comments-in-replies-and-check-runs-out),
 * against the fake GitHub API, with GitHub's own payloads (@octokit/webhooks-examples).
 */

let github: FakeGitHub;
const ITERATIONS = 2000;
const TARGET = { targetRepo: "codertocat/hello-world", targetBranch: "changes" };
const HEAD = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"; // the examples' head commit
const NEW_HEAD = "0123456789abcdef0123456789abcdef01234567";

withFakeClock({ now: new Date("2026-01-05T10:00:00Z") });
beforeEach(() => {
  github = configureGithubApp();
});
afterEach(() => {
  expect(github.violations).toEqual([]);
});

async function post(t: Backend, event: string, payload: Payload, guid?: string) {
  const response = await postGithub(t, { event, payload, guid });
  await settle(t, ITERATIONS);
  return response;
}

/** GitHub's `pull_request` through the App (the examples' PR #2 on Codertocat/Hello-World, branch `changes`), on `head`. */
function pullRequest(action: "opened" | "synchronize", head = HEAD): Payload {
  const payload = examplesOf("pull_request", action).find((example) => example.installation)!;
  payload.pull_request.head.sha = head;
  return payload;
}

/** GitHub's `check_run` `requested_action` (or `rerequested`) on the App's check run of an order. */
function checkRunEvent(action: "requested_action" | "rerequested", workOrderId: string, identifier?: string, appId: number = TEST_APP_ID): Payload {
  const payload = examplesOf("check_run", action)[0];
  payload.check_run.external_id = workOrderId;
  payload.check_run.app.id = appId;
  if (identifier !== undefined) {
    payload.requested_action = { identifier };
  }
  return payload;
}

async function orderOnPullRequest(t: Backend, title = "SSO login") {
  const sessionId = await newSession(t, "user:alice");
  const workOrderId = await newWorkOrder(t, sessionId, { target: TARGET, title });
  await post(t, "pull_request", pullRequest("opened"));
  return workOrderId;
}

async function setStatus(t: Backend, workOrderId: Id<"work_orders">, status: string, reason?: string) {
  await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status, reason });
  await settle(t, ITERATIONS);
}

const checkRunCalls = () => github.calls.filter((call) => call.path.includes("/check-runs"));
const CANCEL = { label: "Cancel", description: "Stop this work order", identifier: "cancel" };
const RETRY = { label: "Retry", description: "Run this work order again", identifier: "retry" };

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
    await settle(t, ITERATIONS);
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

describe("Cancel and Retry pressed on GitHub", () => {
  let temporal: FakeTemporal;
  beforeEach(() => {
    temporal = new FakeTemporal({ namespace: "default" });
    vi.stubGlobal("fetch", fetchFrom([github, temporal]));
    vi.stubEnv("TEMPORAL_HTTP_URL", TEMPORAL_URL);
  });
  afterEach(() => {
    expect(temporal.violations).toEqual([]);
  });

  test("Cancel on a running order cancels it, by github:<sender>, stops its run, and the check run shows it", async () => {
    const t = newBackend();
    const workOrderId = await orderOnPullRequest(t);
    await setStatus(t, workOrderId, "running");
    temporal.setStatus(workOrderId, "RUNNING");
    const response = await post(t, "check_run", checkRunEvent("requested_action", workOrderId, "cancel"));
    expect(response.status).toBe(200);
    expect((await orderOf(t, workOrderId)).status).toBe("canceled");
    expect((await statusHistory(t, workOrderId)).at(-1)).toMatchObject({ to: "canceled", source: "github", actor: "github:codebytere", reason: "canceled from GitHub" });
    expect(temporal.cancelRequests).toEqual([workOrderId]);
    expect(github.checkRuns[0]).toMatchObject({ status: "completed", conclusion: "cancelled", actions: [] });
  });

  test("Cancel on a finished order is refused without harm: nothing changes, the reason is on the delivery", async () => {
    const t = newBackend();
    const workOrderId = await orderOnPullRequest(t);
    await setStatus(t, workOrderId, "succeeded");
    const before = { history: await statusHistory(t, workOrderId), calls: github.calls.length };
    await post(t, "check_run", checkRunEvent("requested_action", workOrderId, "cancel"), "cancel-late");
    expect(await statusHistory(t, workOrderId)).toEqual(before.history);
    expect(github.calls).toHaveLength(before.calls);
    expect(temporal.cancelRequests).toEqual([]);
    const [delivery] = (await stored(t)).deliveries.filter((row) => row.deliveryKey.endsWith("cancel-late"));
    expect(delivery.status).toBe("processed");
    expect(delivery.skipped).toEqual([expect.stringMatching(/^Refused to github:codebytere: .*already succeeded/)]);
  });

  test("Retry on a failed order makes one copy, whatever the redeliveries; the copy gets its own check run on the same head", async () => {
    const t = newBackend();
    const workOrderId = await orderOnPullRequest(t);
    await setStatus(t, workOrderId, "failed", "tests fail");
    const retry = checkRunEvent("requested_action", workOrderId, "retry");
    await post(t, "check_run", retry, "retry-1");
    await post(t, "check_run", retry, "retry-1"); // GitHub's redelivery: the same GUID
    await post(t, "check_run", checkRunEvent("rerequested", workOrderId), "rerun-1"); // another press, refused
    const copies = await t.run(async (ctx) => await ctx.db.query("work_order_retries").collect());
    expect(copies).toEqual([expect.objectContaining({ workOrderId, requestedBy: "github:codebytere" })]);
    const copy = copies[0].retryId;
    expect((await orderOf(t, copy)).status).toBe("submitted");
    expect((await statusHistory(t, copy))[0]).toMatchObject({ source: "github", actor: "github:codebytere" });
    expect(github.checkRuns.map((run) => [run.external_id, run.head_sha, run.status, (run.actions as { identifier: string }[]).map((a) => a.identifier)])).toEqual([
      [workOrderId, HEAD, "completed", []],
      [copy, HEAD, "queued", ["cancel"]],
    ]);
  });

  test("rerequested on a failed order is a Retry", async () => {
    const t = newBackend();
    const workOrderId = await orderOnPullRequest(t);
    await setStatus(t, workOrderId, "failed");
    await post(t, "check_run", checkRunEvent("rerequested", workOrderId));
    expect(await t.run(async (ctx) => await ctx.db.query("work_order_retries").collect())).toEqual([expect.objectContaining({ workOrderId })]);
  });

  test.each([
    ["another App's check run", (id: string) => checkRunEvent("requested_action", id, "cancel", 25811), /not this App's/],
    ["an action that is not Jangar's", (id: string) => checkRunEvent("requested_action", id, "lgtm|26764"), /not one of Jangar's/],
    ["a check run that shows no order", () => checkRunEvent("requested_action", "", "cancel"), /shows no work order/],
  ])("%s is ignored, with its reason", async (_name, payloadOf, reason) => {
    const t = newBackend();
    const workOrderId = await orderOnPullRequest(t);
    const response = await post(t, "check_run", payloadOf(workOrderId), "other-1");
    expect(response.status).toBe(200);
    expect((await orderOf(t, workOrderId)).status).toBe("submitted");
    const [delivery] = (await stored(t)).deliveries.filter((row) => row.deliveryKey.endsWith("other-1"));
    expect(delivery).toMatchObject({ status: "ignored", ignoredReason: expect.stringMatching(reason) });
  });
});

describe("the Slack card and the check run show the same order, whichever side acted", () => {
  let slack: FakeSlack;
  beforeEach(() => {
    slack = new FakeSlack();
    vi.stubGlobal("fetch", fetchFrom([github, slack]));
    configureSlackApp();
    vi.stubEnv("SLACK_BOT_TOKEN", FAKE_SLACK_TOKEN);
  });
  afterEach(() => {
    expect(slack.violations).toEqual([]);
  });

  /** Alice's Slack thread with an order of hers, on the examples' pull request (its card posted, its check run made). */
  async function aliceOrderOnPullRequest(t: Backend) {
    expect((await postSlackEvent(t, aliceMentionsBot)).status).toBe(200);
    await settle(t, ITERATIONS);
    const [session] = await slackSessionsOf(t, ALICE);
    const workOrderId = await newWorkOrder(t, session._id, { target: TARGET });
    await post(t, "pull_request", pullRequest("opened"));
    return workOrderId;
  }

  /** The order's card as Slack shows it: its text and its buttons' action ids. */
  function card(workOrderId: string) {
    const [message] = slack.thread(aliceMentionsBot.event.channel, aliceMentionsBot.event.ts).filter((m) => JSON.stringify(m.blocks ?? []).includes(workOrderId));
    const blocks = (message.blocks ?? []) as { type: string; elements?: { action_id?: string }[] }[];
    return { text: message.text, buttons: blocks.flatMap((block) => (block.type === "actions" ? (block.elements ?? []) : [])).map((button) => button.action_id) };
  }

  test("Cancel pressed on GitHub: the card shows the order canceled, without buttons", async () => {
    const t = newBackend();
    const workOrderId = await aliceOrderOnPullRequest(t);
    expect(card(workOrderId).buttons).toEqual(["work_order.cancel"]);
    await post(t, "check_run", checkRunEvent("requested_action", workOrderId, "cancel"));
    expect(card(workOrderId)).toEqual({ text: expect.stringContaining(": canceled"), buttons: [] });
    expect(github.checkRuns[0]).toMatchObject({ status: "completed", conclusion: "cancelled", actions: [] });
  });

  test("Cancel clicked on the card: the check run completes cancelled, without buttons", async () => {
    const t = newBackend();
    const workOrderId = await aliceOrderOnPullRequest(t);
    expect(github.checkRuns[0]).toMatchObject({ status: "queued", actions: [CANCEL] });
    await postSlackForm(t, clickOn("work_order.cancel", workOrderId));
    await settle(t, ITERATIONS);
    expect(github.checkRuns[0]).toMatchObject({ status: "completed", conclusion: "cancelled", output: { title: "canceled", summary: "canceled from Slack" }, actions: [] });
    expect(card(workOrderId)).toEqual({ text: expect.stringContaining(": canceled"), buttons: [] });
  });
});
