import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import aliceMentionsBot from "../../fixtures/slack/01-alice-mentions-bot.json";
import bobReplies from "../../fixtures/slack/03-bob-replies.json";
import bobEditsReply from "../../fixtures/slack/10-bob-edits-reply.json";
import aliceBroadcasts from "../../fixtures/slack/04-alice-broadcasts.json";
import aliceDeletesBroadcast from "../../fixtures/slack/11-alice-deletes-broadcast.json";
import { FAKE_JANGAR_SECRET, FAKE_JANGAR_URL, FakeJangar } from "../../fakes/jangar";
import { newBackend, type Backend } from "../helpers/backend";
import { asService, asUser } from "../helpers/callers";
import { OUTBOX_ITERATIONS, settle, withFakeClock } from "../helpers/clock";
import { FIRST_PAGE, newSession } from "../helpers/records";
import { EVENTS_SECRET, linkAdded, messageCreated, postEvent, statusChanged } from "../helpers/senders/events";
import { postGithub, pushOf, sha } from "../helpers/senders/github";
import { fetchFrom } from "../../fakes/http";
import { configureGithubApp } from "../helpers/github/app";
import { checkRunEvent, orderOnPullRequest, post, setStatus } from "../helpers/github/checkRuns";
import { ASK, commentOf } from "../helpers/github/comments";
import { BODY_PATHS, onBodyPath } from "../helpers/inbox/deliveries";
import { ALICE, TEAM, clickOn, configureSlackApp, postSlackEvent, postSlackForm, slackSessionsOf } from "../helpers/senders/slack";

/*
 * Events out (docs/contract.md#events-out-telling-jangars-server-what-happened):
 * what a fake of Jangar's server receives, each request verified with
 * svix's own Webhook.verify, when people, senders and the reconciler change
 * things; and what it does not receive (a service's own calls, a
 * deployment without the settings).
 */

let jangar: FakeJangar;
const ROTATED_SECRET = "whsec_cm90YXRlZC1ldmVudHMtc2lnbmluZy1rZXktMg==";
const MINUTE = 60_000;

withFakeClock({ now: new Date("2025-05-14T09:00:00Z") });
beforeEach(() => {
  jangar = new FakeJangar();
  vi.stubGlobal("fetch", jangar.fetch);
  configureSlackApp();
  vi.stubEnv("EVENTS_WEBHOOK_SECRET", EVENTS_SECRET);
  vi.stubEnv("JANGAR_EVENTS_URL", FAKE_JANGAR_URL);
  vi.stubEnv("JANGAR_EVENTS_SECRET", FAKE_JANGAR_SECRET);
});
afterEach(() => {
  expect(jangar.violations).toEqual([]);
});

const SLACK_USER = `slack:${TEAM}:${ALICE}`;

/** Each event received, as `type source` (or `type` for those without a source). */
function received() {
  return jangar.events().map(({ type, data }) => ("source" in data ? `${type} ${data.source}` : type));
}

async function rowsOf(t: Backend) {
  return await t.run(async (ctx) => ({
    events: await ctx.db.query("events").collect(),
    outbox: (await ctx.db.query("outbox").collect()).filter((row) => row.destination === "events"),
  }));
}

async function aliceOrder(t: Backend, sessionId: Id<"chat_sessions">, status: "draft" | "submitted" = "submitted") {
  return await asUser(t, SLACK_USER).mutation(api.workOrders.create, {
    sessionId,
    workflowType: "codex-implement",
    prompt: "Fix the SSO button",
    title: "Fix SSO",
    status,
    target: { targetRepo: "acme/web", targetBranch: "fix-sso" },
  });
}

// Senders' deliveries reach the effects by either of the inbox's roads: each makes the same events.
describe.each(BODY_PATHS)("each change is an event, from every surface: $road", (road) => {
  onBodyPath(road);

  test("Slack, a user's calls, the events route, GitHub (a push, a comment to the App), the reconciler and a Retry click each send theirs, in order, signed", async () => {
    vi.stubEnv("GITHUB_APP_SLUG", "jangar");
    const t = newBackend();
    // Slack: a mention starts a session; a reply, its edit; a broadcast, its deletion.
    for (const payload of [aliceMentionsBot, bobReplies, bobEditsReply, aliceBroadcasts, aliceDeletesBroadcast]) {
      expect((await postSlackEvent(t, payload)).status).toBe(200);
      await settle(t, OUTBOX_ITERATIONS);
    }
    const [session] = await slackSessionsOf(t, ALICE);
    // A user's calls: a message, a draft order submitted, a link.
    await asUser(t, SLACK_USER).mutation(api.chatMessages.append, { sessionId: session._id, role: "user", content: "Any news?" });
    const workOrderId = await aliceOrder(t, session._id, "draft");
    await asUser(t, SLACK_USER).mutation(api.workOrders.updateStatus, { workOrderId, status: "submitted" });
    await asUser(t, SLACK_USER).mutation(api.workOrderLinks.add, { workOrderId, kind: "github_issue", value: "https://github.com/acme/web/issues/7" });
    // The events route: a runner's status, link and message.
    for (const event of [
      statusChanged(workOrderId, "running"),
      linkAdded(workOrderId, "pr", "https://github.com/acme/web/pull/8"),
      messageCreated(session._id, { role: "assistant", content: "Working on it." }),
    ]) {
      expect((await postEvent(t, { event })).status).toBe(200);
    }
    // GitHub: a push to the order's branch.
    expect((await postGithub(t, { event: "push", payload: pushOf({ targetRepo: "acme/web", targetBranch: "fix-sso" }, 1) })).status).toBe(200);
    await settle(t, OUTBOX_ITERATIONS);
    // GitHub: a comment mentioning the App starts its author's session.
    expect((await postGithub(t, { event: "issue_comment", payload: commentOf("issue_comment") })).status).toBe(200);
    await settle(t, OUTBOX_ITERATIONS);
    // The reconciler: quiet for more than a day without Temporal, the order fails.
    vi.advanceTimersByTime(25 * 60 * MINUTE);
    await t.mutation(internal.reconcile.sweep, {});
    await settle(t, OUTBOX_ITERATIONS);
    // Slack: Alice retries the failed order from its card.
    expect((await postSlackForm(t, clickOn("work_order.retry", workOrderId))).status).toBe(200);
    await settle(t, OUTBOX_ITERATIONS);

    expect(received()).toEqual([
      "chat.message.created slack",
      "chat.message.created slack",
      "chat.message.updated",
      "chat.message.created slack",
      "chat.message.deleted",
      "chat.message.created api",
      "work_order.created api",
      "work_order.status.changed api",
      "work_order.link.added api",
      "work_order.status.changed events",
      "work_order.link.added events",
      "chat.message.created events",
      "work_order.link.added github",
      "chat.message.created github",
      "work_order.status.changed reconcile",
      "work_order.created slack",
    ]);
    const events = jangar.events();
    expect(events[1]).toMatchObject({ data: { sessionId: session._id, role: "user", metadata: { source: "slack", user: "U02BOB" } } });
    expect(events[2]).toMatchObject({ data: { messageId: events[1].type === "chat.message.created" ? events[1].data.messageId : null, content: expect.stringContaining("only the SSO button") } });
    expect(events[7]).toMatchObject({ data: { workOrderId, from: "draft", to: "submitted" } });
    expect(events[12]).toMatchObject({ data: { workOrderId, kind: "commit", value: sha(1) } });
    const [commenter] = (await asService(t).query(api.chatSessions.list, { userId: "github:Codertocat", paginationOpts: FIRST_PAGE })).page;
    expect(events[13]).toMatchObject({ data: { sessionId: commenter._id, role: "user", content: ASK, metadata: { source: "github", author: "Codertocat" } } });
    expect(events[14]).toMatchObject({ data: { workOrderId, from: "running", to: "failed", reason: "stale" } });
    expect(events[15]).toMatchObject({ data: { retryOf: workOrderId, status: "submitted", requestedBy: SLACK_USER } });
    // Two sessions, two lanes, each in order: every request verified, each event once, ids unique, timestamps when it happened.
    const ids = jangar.calls.map((call) => call.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(jangar.calls.every((call) => call.verifiedBy.length === 1 && call.signatures.length === 1)).toBe(true);
    const { events: kept, outbox } = await rowsOf(t);
    expect(ids).toEqual(kept.map((row) => row._id));
    expect(outbox.map((row) => row.status)).toEqual(kept.map(() => "sent"));
    expect(events.map((event) => event.timestamp)).toEqual(kept.map((row) => new Date(row.occurredAt).toISOString()));
    // Every delivery took this road, and was processed.
    const deliveries = await t.run(async (ctx) => await ctx.db.query("webhook_deliveries").collect());
    expect(new Set(deliveries.map((row) => `${row.status} ${row.inline === true ? "inline" : "file"}`))).toEqual(
      new Set([`processed ${road.inlineBodyBytes === undefined ? "inline" : "file"}`]),
    );
  });

  test("Retry and Cancel pressed on a work order's GitHub check run are events from github", async () => {
    const github = configureGithubApp();
    vi.stubGlobal("fetch", fetchFrom([github, jangar]));
    const t = newBackend();
    // The service's order and its status are no events; its pull request's link is one.
    const workOrderId = await orderOnPullRequest(t);
    await setStatus(t, workOrderId, "failed", "tests fail");
    expect((await post(t, "check_run", checkRunEvent("requested_action", workOrderId, "retry"))).status).toBe(200);
    const [{ retryId }] = await t.run(async (ctx) => await ctx.db.query("work_order_retries").collect());
    expect((await post(t, "check_run", checkRunEvent("requested_action", retryId, "cancel"))).status).toBe(200);

    expect(received()).toEqual(["work_order.link.added github", "work_order.created github", "work_order.status.changed github"]);
    const events = jangar.events();
    expect(events[1]).toMatchObject({ data: { workOrderId: retryId, retryOf: workOrderId, requestedBy: "user:alice" } });
    expect(events[2]).toMatchObject({ data: { workOrderId: retryId, from: "submitted", to: "canceled", reason: "canceled from GitHub" } });
    expect(github.violations).toEqual([]);
  });
});

describe("a service's own calls", () => {
  test("make no event, and nothing is queued for them", async () => {
    const t = newBackend();
    const service = asService(t);
    const sessionId = await service.mutation(api.chatSessions.create, { title: "Deploy", userId: "alice" });
    await service.mutation(api.chatMessages.append, { sessionId, role: "assistant", content: "On it." });
    const workOrderId = await service.mutation(api.workOrders.create, { sessionId, workflowType: "codex-implement", prompt: "Deploy", title: "Deploy" });
    await service.mutation(api.workOrders.updateStatus, { workOrderId, status: "accepted" });
    await service.mutation(api.workOrderLinks.add, { workOrderId, kind: "commit", value: sha(3) });
    await settle(t, OUTBOX_ITERATIONS);
    expect(await rowsOf(t)).toEqual({ events: [], outbox: [] });
    expect(jangar.calls).toEqual([]);
  });
});

describe("order, retries and failures", () => {
  test("a session's events go one at a time in order: 5xx, a network error, 429 with Retry-After, a hang and 408 are retried with the same webhook-id; another session is not held back", async () => {
    const t = newBackend();
    const held = await newSession(t, "alice");
    const other = await newSession(t, "bob");
    // Bob's event is the second request: answered "ok" between Alice's first attempts.
    jangar.answerNext({ status: 503 }, "ok", "network", { status: 429, retryAfter: "120" }, "hang", { status: 408 });
    await asUser(t, "alice").mutation(api.chatMessages.append, { sessionId: held, role: "user", content: "first" });
    await asUser(t, "alice").mutation(api.chatMessages.append, { sessionId: held, role: "user", content: "second" });
    await asUser(t, "bob").mutation(api.chatMessages.append, { sessionId: other, role: "user", content: "bob's" });
    await settle(t, OUTBOX_ITERATIONS);

    const contents = jangar.calls.map((call) => (call.event?.type === "chat.message.created" ? call.event.data.content : null));
    // Bob's event goes out while Alice's first waits for its retries; her second follows her first.
    expect(contents).toEqual(["first", "bob's", "first", "first", "first", "first", "first", "second"]);
    const firstAttempts = jangar.calls.filter((_, i) => contents[i] === "first");
    expect(new Set(firstAttempts.map((call) => call.id)).size).toBe(1);
    expect(firstAttempts.map((call) => call.answer)).toEqual([{ status: 503 }, "network", { status: 429, retryAfter: "120" }, "hang", { status: 408 }, "ok"]);
    // Each attempt is signed anew (webhook-timestamp moves); Retry-After is honoured.
    expect(new Set(firstAttempts.map((call) => call.timestamp)).size).toBe(firstAttempts.length);
    expect(firstAttempts[3].at - firstAttempts[2].at).toBeGreaterThanOrEqual(120_000);
    const { outbox } = await rowsOf(t);
    expect(outbox.map((row) => [row.status, row.attempts])).toEqual([
      ["sent", 6],
      ["sent", 1],
      ["sent", 1],
    ]);
  });

  test("any other answer fails that event at once, and the session's later events go on; an operator sees it and replays it", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    jangar.answerNext({ status: 410, body: "gone" });
    await asUser(t, "alice").mutation(api.chatMessages.append, { sessionId, role: "user", content: "refused" });
    await asUser(t, "alice").mutation(api.chatMessages.append, { sessionId, role: "user", content: "next" });
    await settle(t, OUTBOX_ITERATIONS);
    const { outbox } = await rowsOf(t);
    expect(outbox.map((row) => [row.status, row.attempts, row.httpStatus, row.error])).toEqual([
      ["failed", 1, 410, "http_410"],
      ["sent", 1, undefined, undefined],
    ]);
    const status = await t.query(internal.outbox.status, { destination: "events" });
    expect(status.counts.filter((count) => count.destination === "events")).toEqual(
      expect.arrayContaining([
        { destination: "events", status: "failed", count: 1 },
        { destination: "events", status: "sent", count: 1 },
      ]),
    );
    await t.mutation(internal.outbox.replay, { rowId: outbox[0]._id });
    await settle(t, OUTBOX_ITERATIONS);
    expect(jangar.calls.map((call) => [call.event?.type === "chat.message.created" && call.event.data.content, call.answer])).toEqual([
      ["refused", { status: 410, body: "gone" }],
      ["next", "ok"],
      ["refused", "ok"],
    ]);
    expect(jangar.calls[2].id).toBe(jangar.calls[0].id);
  });

  test("during a rotation each secret of JANGAR_EVENTS_SECRET signs: a receiver holding either verifies", async () => {
    vi.stubEnv("JANGAR_EVENTS_SECRET", `${FAKE_JANGAR_SECRET} ${ROTATED_SECRET}`);
    jangar = new FakeJangar({ secrets: [FAKE_JANGAR_SECRET, ROTATED_SECRET] });
    vi.stubGlobal("fetch", jangar.fetch);
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    await asUser(t, "alice").mutation(api.chatMessages.append, { sessionId, role: "user", content: "rotating" });
    await settle(t, OUTBOX_ITERATIONS);
    expect(jangar.calls.map((call) => [call.signatures.length, call.verifiedBy])).toEqual([[2, [0, 1]]]);
  });
});

describe("settings", () => {
  test.each(["JANGAR_EVENTS_URL", "JANGAR_EVENTS_SECRET"])("with %s unset nothing is sent or queued; the event is still kept for events:list", async (unset) => {
    vi.stubEnv(unset, "");
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    await asUser(t, "alice").mutation(api.chatMessages.append, { sessionId, role: "user", content: "kept" });
    await settle(t, OUTBOX_ITERATIONS);
    const { events, outbox } = await rowsOf(t);
    expect(events.map((row) => row.type)).toEqual(["chat.message.created"]);
    expect(outbox).toEqual([]);
    expect(jangar.calls).toEqual([]);
  });
});
