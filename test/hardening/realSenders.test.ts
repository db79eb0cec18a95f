import { beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import { FakeTemporal, TEMPORAL_URL } from "../../fakes/temporal";
import aliceMentionsBot from "../../fixtures/slack/01-alice-mentions-bot.json";
import bobReplies from "../../fixtures/slack/03-bob-replies.json";
import aliceClicksCancel from "../../fixtures/slack/14-alice-clicks-cancel.json";
import { signGithubPayload } from "../../src/sources/github/signature";
import { snapshotTables } from "../helpers/assertions";
import { newBackend, type Backend } from "../helpers/backend";
import { asService } from "../helpers/callers";
import { settle, withFakeClock } from "../helpers/clock";
import { expectNothingStored } from "../helpers/inbox/deliveries";
import { messagesOf, newSession, newWorkOrder, statusHistory } from "../helpers/records";
import { EVENTS_SECRET, eventsRequest, statusChanged } from "../helpers/senders/events";
import { GITHUB_SECRET, githubRequest, postGithub } from "../helpers/senders/github";
import {
  ALICE,
  FORM,
  TEAM,
  configureSlackApp,
  newTriggerId,
  postSlack,
  postSlackEvent,
  postSlackForm,
  slackRequest,
  slackSessionsOf,
  withFakeSlack,
} from "../helpers/senders/slack";

/*
 * What real senders and peers send (docs/contract.md#hardening-rules), from
 * their own tests, fixtures and documentation: Slack's ssl_check, events
 * written by other apps, Enterprise Grid's interactions; Temporal's PAUSED
 * status and its 409s (its OpenAPI spec); GitHub's secret rotation
 * (octokit's), and routes written with a trailing slash.
 */

withFakeClock({ now: new Date("2025-05-14T09:00:00Z") });

/** No table holds a row, and no body is stored. */
async function expectEmptyBackend(t: Backend) {
  const tables = await snapshotTables(t);
  expect(Object.fromEntries(Object.entries(tables).filter(([, rows]) => rows.length > 0))).toEqual({});
  await expectNothingStored(t);
}

describe("Slack: ssl_check", () => {
  beforeEach(() => {
    configureSlackApp();
  });

  // What Slack posts when it checks the endpoint's certificate (Bolt answers it at once, signed or not).
  const SSL_CHECK = "ssl_check=1&token=ZZpzP0QJxVYcCTFTSqd5Ysyl";

  test.each([
    ["signed", {}],
    ["without Slack's headers", { "X-Slack-Signature": null, "X-Slack-Request-Timestamp": null }],
    ["with a wrong signature", { "X-Slack-Signature": `v0=${"0".repeat(64)}` }],
    ["with a stale timestamp", { "X-Slack-Request-Timestamp": "1531420618" }],
  ])("a form POST with ssl_check=1, %s, is answered 200 and stores nothing", async (_how, headers) => {
    const t = newBackend();
    const response = await postSlack(t, { body: SSL_CHECK, headers: { "Content-Type": FORM, ...headers } });
    expect(response).toEqual({ status: 200, body: { status: "ok" } });
    await expectEmptyBackend(t);
  });

  test("a form that is not an ssl_check still needs Slack's headers and signature", async () => {
    const t = newBackend();
    const unsigned = await postSlack(t, { body: "ssl_check=0&token=x", headers: { "Content-Type": FORM, "X-Slack-Signature": null } });
    expect(unsigned.status).toBe(400);
    const forged = await postSlack(t, { body: "ssl_check=1&command=%2Fjangar", headers: { "Content-Type": "application/json", "X-Slack-Signature": null } });
    expect(forged.status).toBe(400);
    await expectEmptyBackend(t);
  });
});

describe("Slack: events without a user (another app wrote them)", () => {
  beforeEach(() => {
    configureSlackApp();
  });

  test("an app_mention another app (a bot_id, no user) posts is ignored with 200, and starts no session", async () => {
    const t = newBackend();
    const { user: _user, ...event } = aliceMentionsBot.event;
    const envelope = { ...aliceMentionsBot, event: { ...event, bot_id: "B0DEPLOYS", app_id: "A0DEPLOYS", text: "<@U0JANGAR> deploy 4812 is out" } };
    const response = await postSlackEvent(t, envelope);
    expect(response).toEqual({ status: 200, body: { status: "ignored", delivery: expect.any(String), reason: "The mention comes from a bot." } });
    expect(await t.run(async (ctx) => await ctx.db.query("chat_sessions").collect())).toEqual([]);
  });

  test.each(["app_mention", "message"] as const)("an event of type %s without user or bot_id (a workflow's post) is ignored with 200, and nothing is appended", async (type) => {
    const t = newBackend();
    expect((await postSlackEvent(t, aliceMentionsBot)).status).toBe(200);
    await settle(t);
    const [session] = await slackSessionsOf(t, ALICE);
    const before = await messagesOf(t, session._id);

    const { user: _user, ...event } = bobReplies.event;
    const envelope = { ...bobReplies, event_id: `Ev0NOUSER${type.length}`, event: { ...event, type, text: "<@U0JANGAR> nightly run finished" } };
    const response = await postSlackEvent(t, envelope);
    expect(response).toEqual({
      status: 200,
      body: { status: "ignored", delivery: expect.any(String), reason: `The ${type === "message" ? "message" : "mention"} has no user: another app or a workflow wrote it.` },
    });
    await settle(t);
    expect(await messagesOf(t, session._id)).toEqual(before);
    expect(await slackSessionsOf(t, ALICE)).toHaveLength(1);
  });
});

describe("Slack: interactions of an Enterprise Grid org-wide install (team: null)", () => {
  const fake = withFakeSlack();

  /** Alice's click on Cancel as an org-wide install sends it: no team, the user's own team_id, the enterprise. */
  function gridClick(workOrderId: string) {
    const payload = structuredClone(aliceClicksCancel.form.payload) as Record<string, unknown>;
    payload.team = null;
    payload.enterprise = { id: "E0ACME", name: "Acme Corp" };
    payload.is_enterprise_install = true;
    payload.trigger_id = newTriggerId();
    payload.actions = [{ ...aliceClicksCancel.form.payload.actions[0], value: workOrderId }];
    return payload;
  }

  test("a click with team: null acts as slack:<user.team_id>:<user.id>: Alice's Cancel cancels her order", async () => {
    const t = newBackend();
    expect((await postSlackEvent(t, aliceMentionsBot)).status).toBe(200);
    await settle(t, 2000);
    const [session] = await slackSessionsOf(t, ALICE);
    const workOrderId = await newWorkOrder(t, session._id);
    await settle(t, 2000);

    const response = await postSlackForm(t, { payload: JSON.stringify(gridClick(workOrderId)) });
    expect(response.status).toBe(200);
    await settle(t, 2000);
    expect((await asService(t).query(api.workOrders.get, { workOrderId }))!.status).toBe("canceled");
    expect((await statusHistory(t, workOrderId)).at(-1)).toMatchObject({ to: "canceled", source: "slack", actor: `slack:${TEAM}:${ALICE}` });
    expect(fake.slack.ephemerals).toEqual([]);
  });

  test("a click with neither team nor user.team_id is refused with 400 naming both, and stores nothing", async () => {
    const t = newBackend();
    const payload = gridClick("k57f8gq2wz0d4r8qnw1h3x6f9s7v2c1b");
    payload.user = { id: ALICE, username: "alice" };
    const response = await postSlackForm(t, { payload: JSON.stringify(payload) });
    expect(response).toEqual({ status: 400, body: { error: expect.stringMatching(/team\.id.*user\.team_id/) } });
    await expectNothingStored(t);
  });
});


describe("Temporal: PAUSED, and 409s", () => {
  let temporal: FakeTemporal;
  const MINUTE = 60_000;
  beforeEach(() => {
    temporal = new FakeTemporal({ namespace: "jangar-prod" });
    vi.stubGlobal("fetch", temporal.fetch);
    vi.stubEnv("TEMPORAL_HTTP_URL", TEMPORAL_URL);
    vi.stubEnv("TEMPORAL_NAMESPACE", "jangar-prod");
  });

  test.each(["accepted", "running"] as const)(
    "Temporal says WORKFLOW_EXECUTION_STATUS_PAUSED: a stale %s order is treated as running, and nothing is logged as unknown",
    async (status) => {
      const warnings: string[] = [];
      vi.spyOn(console, "warn").mockImplementation((...args: unknown[]) => void warnings.push(args.map(String).join(" ")));
      const t = newBackend();
      const workOrderId = await newWorkOrder(t, await newSession(t, "alice"));
      for (const next of status === "accepted" ? (["accepted"] as const) : (["accepted", "running"] as const)) {
        await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: next });
      }
      const touched = Date.now() - 31 * MINUTE;
      await t.run(async (ctx) => await ctx.db.patch("work_orders", workOrderId, { updatedAt: touched }));
      temporal.setStatus(workOrderId, "PAUSED");

      await t.mutation(internal.reconcile.sweep, {});
      await settle(t);
      const order = (await asService(t).query(api.workOrders.get, { workOrderId }))!;
      expect(order.status).toBe("running");
      expect(order.updatedAt).toBeGreaterThan(touched);
      if (status === "accepted") {
        expect((await statusHistory(t, workOrderId)).at(-1)).toMatchObject({ from: "accepted", to: "running", reason: "WORKFLOW_EXECUTION_STATUS_PAUSED" });
      }
      expect(warnings).toEqual([]);
    },
  );

  describe("a launch answered 409", () => {
    beforeEach(() => {
      vi.stubEnv("TEMPORAL_TASK_QUEUE", "codex-agents");
    });

    /** Temporal (or a proxy before it) answering every start with `answer`. */
    function startsAnswered(answer: () => Response) {
      vi.stubGlobal("fetch", async (input: RequestInfo | URL, init?: RequestInit) => ((init?.method ?? "GET") === "POST" ? answer() : await temporal.fetch(input, init)));
    }

    test("with code 6 (ALREADY_EXISTS) is already started: the order is accepted", async () => {
      startsAnswered(() => Response.json({ code: 6, message: "Workflow execution is already running. WorkflowId: x, RunId: y.", details: [] }, { status: 409 }));
      const t = newBackend();
      const workOrderId = await newWorkOrder(t, await newSession(t, "alice"));
      await settle(t);
      expect((await statusHistory(t, workOrderId)).at(-1)).toMatchObject({ to: "accepted", reason: "workflow already started" });
    });

    test.each([
      ["ABORTED (10)", () => Response.json({ code: 10, message: "operation was aborted", details: [] }, { status: 409 })],
      ["a proxy's conflict page", () => new Response("<html><h1>409 Conflict</h1></html>", { status: 409, headers: { "content-type": "text/html" } })],
    ])("with %s is not taken as started: the order stays submitted, to be launched again", async (_what, answer) => {
      const warnings: string[] = [];
      vi.spyOn(console, "warn").mockImplementation((...args: unknown[]) => void warnings.push(args.map(String).join(" ")));
      startsAnswered(answer);
      const t = newBackend();
      const workOrderId = await newWorkOrder(t, await newSession(t, "alice"));
      await settle(t);
      expect((await statusHistory(t, workOrderId)).map(({ to }) => to)).toEqual(["submitted"]);
      expect(warnings).toEqual([expect.stringMatching(new RegExp(`^launch: work order ${workOrderId} stays submitted, to be launched again: Temporal answered 409`))]);

      // Temporal takes it later: the reconciler's relaunch starts it.
      vi.stubGlobal("fetch", temporal.fetch);
      vi.advanceTimersByTime(6 * MINUTE);
      await t.mutation(internal.reconcile.sweep, {});
      await settle(t);
      expect((await statusHistory(t, workOrderId)).at(-1)).toMatchObject({ to: "accepted" });
    });
  });
});

describe("GitHub: several secrets during a rotation", () => {
  const NEW_SECRET = "5f0c0b8e6d2a41f3a9e7c1d4b8f2e6a0";
  const ping = { zen: "Keep it logically awesome.", hook_id: 292430182, hook: { type: "Repository", id: 292430182, events: ["push"] } };

  test("with GITHUB_WEBHOOK_SECRET holding the new and the old secret, space-separated, a delivery signed with either is accepted, and one signed with neither is 401", async () => {
    vi.stubEnv("GITHUB_WEBHOOK_SECRET", `${NEW_SECRET}  ${GITHUB_SECRET.replaceAll(" ", "")}`);
    // GitHub's own example secret holds spaces; a rotating deployment's secrets do not.
    const t = newBackend();
    const signedWith = async (secret: string) => (await postGithub(t, { event: "ping", payload: ping, secret })).status;
    expect(await signedWith(NEW_SECRET)).toBe(200);
    expect(await signedWith(GITHUB_SECRET.replaceAll(" ", ""))).toBe(200);
    expect(await signedWith("a-third-secret")).toBe(401);
    // The setting as a whole is not a secret of its own.
    const whole = await signGithubPayload(`${NEW_SECRET}  ${GITHUB_SECRET.replaceAll(" ", "")}`, JSON.stringify(ping));
    expect((await postGithub(t, { event: "ping", payload: ping, headers: { "X-Hub-Signature-256": whole } })).status).toBe(401);
  });

  test("a secret whose words are short (GitHub's own example, \"It's a Secret to Everybody\") stays one secret: signed with it, accepted; with one of its words, 401", async () => {
    vi.stubEnv("GITHUB_WEBHOOK_SECRET", GITHUB_SECRET);
    const t = newBackend();
    expect((await postGithub(t, { event: "ping", payload: ping, secret: GITHUB_SECRET })).status).toBe(200);
    for (const word of GITHUB_SECRET.split(" ")) {
      expect((await postGithub(t, { event: "ping", payload: ping, secret: word })).status).toBe(401);
    }
  });
});

describe("every route also answers with a trailing slash", () => {
  beforeEach(() => {
    configureSlackApp();
    vi.stubEnv("EVENTS_WEBHOOK_SECRET", EVENTS_SECRET);
  });

  test("POST /webhooks/github/, /webhooks/slack/ and /webhooks/events/ are the routes without the slash; GET /healthz/ is /healthz", async () => {
    const t = newBackend();
    const answer = async (path: string, init: RequestInit) => {
      const response = await t.fetch(path, init);
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const accepted = { status: 200, body: { status: "accepted", delivery: expect.any(String) } };
    expect(await answer("/webhooks/github/", await githubRequest({ event: "push", payload: { ref: "refs/heads/main", repository: { full_name: "acme/api" }, commits: [] } }))).toEqual(accepted);
    const slack = await slackRequest({ payload: aliceMentionsBot });
    expect(await answer("/webhooks/slack/", slack)).toEqual(accepted);
    const { init } = await eventsRequest({ event: statusChanged("k57f8gq2wz0d4r8qnw1h3x6f9s7v2c1b", "running") });
    expect(await answer("/webhooks/events/", init)).toEqual(accepted);
    expect(await answer("/healthz/", { method: "GET" })).toEqual({ status: 200, body: { status: "ok" } });
    // Unsigned, a route with the slash refuses as the route without it does.
    expect((await answer("/webhooks/github/", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).status).toBe(400);
  });
});
