import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import type { FakeGitHub } from "../../fakes/github";
import { fetchFrom } from "../../fakes/http";
import { FAKE_SLACK_TOKEN, FakeSlack } from "../../fakes/slack";
import { FakeTemporal, TEMPORAL_URL } from "../../fakes/temporal";
import aliceMentionsBot from "../../fixtures/slack/01-alice-mentions-bot.json";
import { newBackend, type Backend } from "../helpers/backend";
import { OUTBOX_ITERATIONS, settle, withFakeClock } from "../helpers/clock";
import { configureGithubApp, TEST_APP_SLUG } from "../helpers/github/app";
import { CANCEL, checkRunEvent, HEAD, orderOnPullRequest, post, pullRequest, setStatus, TARGET } from "../helpers/github/checkRuns";
import { BODY_PATHS, onBodyPath, stored } from "../helpers/inbox/deliveries";
import { newWorkOrder, orderOf, statusHistory } from "../helpers/records";
import { ALICE, clickOn, configureSlackApp, postSlackEvent, postSlackForm, slackSessionsOf } from "../helpers/senders/slack";

/*
 * A work order's check run's buttons pressed on GitHub
 * (docs/contract.md#github-both-ways-the-app-comments-in-replies-and-check-runs-out):
 * Cancel and Retry act as the Slack card's do, on either inbox road, and
 * the card and the check run show the same order whichever side acted.
 * Against the fake GitHub API, with GitHub's own payloads (@octokit/webhooks-examples).
 */

let github: FakeGitHub;

withFakeClock({ now: new Date("2026-01-05T10:00:00Z") });
beforeEach(() => {
  github = configureGithubApp();
});
afterEach(() => {
  expect(github.violations).toEqual([]);
});

describe.each(BODY_PATHS)("Cancel and Retry pressed on GitHub ($road)", (road) => {
  onBodyPath(road);
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
    const [delivery] = (await stored(t)).deliveries.filter((row) => row.event === "check_run");
    expect([delivery.status, delivery.inline === true]).toEqual(["processed", road.inlineBodyBytes === undefined]);
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

describe("this App's check runs, whichever form GITHUB_APP_ID takes", () => {
  const CLIENT_ID = "Iv23liAbCdEf";
  beforeEach(() => {
    // The deployment knows the App by its Client ID, as GitHub allows for the JWT's `iss`.
    github = configureGithubApp({ appId: CLIENT_ID });
    vi.stubEnv("GITHUB_APP_ID", CLIENT_ID);
  });

  test.each([
    ["its Client ID, which the check run's app names", { client_id: CLIENT_ID }],
    ["its Client ID, the check run's app named by its slug (GITHUB_APP_SLUG)", { slug: TEST_APP_SLUG }],
  ])("GITHUB_APP_ID set to %s: Cancel cancels the order", async (_name, app) => {
    const t = newBackend();
    const workOrderId = await orderOnPullRequest(t);
    const payload = checkRunEvent("requested_action", workOrderId, "cancel", 25811);
    delete payload.check_run.app.slug;
    Object.assign(payload.check_run.app, app);
    await post(t, "check_run", payload, "by-client-id");
    expect((await statusHistory(t, workOrderId)).at(-1)).toMatchObject({ to: "canceled", source: "github", actor: "github:codebytere" });
    expect(github.checkRuns[0]).toMatchObject({ status: "completed", conclusion: "cancelled", actions: [] });
  });

  test("another App's check run with another slug is still ignored", async () => {
    const t = newBackend();
    const workOrderId = await orderOnPullRequest(t);
    const payload = checkRunEvent("requested_action", workOrderId, "cancel", 25811);
    Object.assign(payload.check_run.app, { client_id: "Iv1.0000000000000000", slug: "other-app" });
    await post(t, "check_run", payload, "other-app");
    expect((await orderOf(t, workOrderId)).status).toBe("submitted");
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
    await settle(t, OUTBOX_ITERATIONS);
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
    await settle(t, OUTBOX_ITERATIONS);
    expect(github.checkRuns[0]).toMatchObject({ status: "completed", conclusion: "cancelled", output: { title: "canceled", summary: "canceled from Slack" }, actions: [] });
    expect(card(workOrderId)).toEqual({ text: expect.stringContaining(": canceled"), buttons: [] });
  });
});
