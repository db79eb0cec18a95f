import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { FAKE_SLACK_TOKEN, FakeSlack, type SlackAnswer, type SlackMessage } from "../../fakes/slack";
import { newBackend, type Backend } from "../helpers/backend";
import { asService } from "../helpers/callers";
import { EVENTS_SECRET, messageCreated, postEvent } from "../helpers/senders/events";
import { expectConvexError, snapshotTables } from "../helpers/assertions";
import { newSession, newWorkOrder, messagesOf } from "../helpers/records";
import { withFakeClock, settle } from "../helpers/clock";
import { ALICE, BOT_USER, TEAM, configureSlackApp, postSlackEvent, slackSessionsOf } from "../helpers/senders/slack";
import { delayRange } from "../../src/retry";
import { slack as slackDestination } from "../../convex/outbox/destinations/slack";

/*
 * The conversation going back to Slack
 * (docs/contract.md#slack-replies-and-work-order-cards-outbound): what a
 * fake of Slack's Web API receives, and holds, when
 * assistants reply and work orders move in sessions bound to Slack threads.
 */

let slack: FakeSlack;
// Deliveries, the outbox's runners and their retries: more scheduled runs than convex-test's default allows.
const OUTBOX_ITERATIONS = 2000;

withFakeClock({ now: new Date("2025-05-14T09:00:00Z") });
beforeEach(() => {
  slack = new FakeSlack();
  vi.stubGlobal("fetch", slack.fetch);
  configureSlackApp();
  vi.stubEnv("SLACK_BOT_TOKEN", FAKE_SLACK_TOKEN);
  vi.stubEnv("EVENTS_WEBHOOK_SECRET", EVENTS_SECRET);
});
afterEach(() => {
  expect(slack.violations).toEqual([]);
});

const CHANNEL = "C0AB1";
let threads = 0;

/** Alice mentions the bot in CHANNEL (or another channel): a session bound to a new thread. */
async function slackThread(t: Backend, channel = CHANNEL) {
  threads += 1;
  const now = Math.floor(Date.now() / 1000);
  const ts = `${now}.${String(threads).padStart(6, "0")}`;
  const answer = await postSlackEvent(t, {
    type: "event_callback",
    team_id: TEAM,
    event_id: `Ev0THREAD${threads}`,
    event_time: now,
    event: { type: "app_mention", user: ALICE, text: `<@${BOT_USER}> the login page 500s`, ts, channel },
  });
  expect(answer.status).toBe(200);
  await settle(t, OUTBOX_ITERATIONS);
  const sessions = await slackSessionsOf(t, ALICE);
  return { sessionId: sessions[0]._id, channel, threadTs: ts };
}

async function reply(t: Backend, sessionId: Id<"chat_sessions">, content: string, role = "assistant") {
  return await asService(t).mutation(api.chatMessages.append, { sessionId, role, content });
}

async function outboxRows(t: Backend) {
  return await t.run(async (ctx) => await ctx.db.query("outbox").collect());
}

async function outboxStatus(t: Backend) {
  return await t.query(internal.outbox.status, {});
}

/** Slack's rows by status. */
function countsOf(status: { counts: { destination: string; status: string; count: number }[] }) {
  return Object.fromEntries(status.counts.filter(({ destination }) => destination === "slack").map(({ status: name, count }) => [name, count]));
}

/** The shortest and longest wait of Slack's retry policy after `attemptsMade` failed attempts (jitter takes a random share off). */
const waitAfter = (attemptsMade: number) => delayRange(slackDestination.retry, attemptsMade);

describe("replies", () => {
  test("an assistant's message is posted once to the session's thread; user and system messages are not", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    await reply(t, sessionId, "Which deploy?", "user");
    const messageId = await reply(t, sessionId, "Build 4812 changed the auth middleware; I'll look at it.");
    await reply(t, sessionId, "Tool output: 3 files", "system");
    await settle(t, OUTBOX_ITERATIONS);
    await settle(t, OUTBOX_ITERATIONS);

    expect(slack.calls.map(({ method, args }) => ({ method, args }))).toEqual([
      {
        method: "chat.postMessage",
        args: {
          channel: CHANNEL,
          thread_ts: threadTs,
          text: "Build 4812 changed the auth middleware; I'll look at it.",
          metadata: { event_type: "jangar_outbox_post", event_payload: { post: (await outboxRows(t))[0]._id } },
        },
      },
    ]);
    const [posted] = slack.thread(CHANNEL, threadTs);
    const origin = await t.run(
      async (ctx) =>
        await ctx.db
          .query("chat_message_origins")
          .withIndex("by_externalId_sessionId", (q) => q.eq("externalId", `slack:${TEAM}:${CHANNEL}:${posted.ts}`))
          .unique(),
    );
    expect(origin?.messageId).toBe(messageId);
    expect(await outboxRows(t)).toEqual([
      expect.objectContaining({ status: "sent", attempts: 1, method: "chat.postMessage", result: posted.ts }),
    ]);
  });

  test("a reply longer than 3,900 characters is posted as several posts cut at line boundaries, in order", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    const lines = Array.from({ length: 120 }, (_, i) => `${String(i + 1).padStart(3, "0")} ${"step ".repeat(15)}done`);
    const content = lines.join("\n");
    await reply(t, sessionId, content);
    await settle(t, OUTBOX_ITERATIONS);

    const posts = slack.thread(CHANNEL, threadTs).map((message) => message.text);
    expect(posts.length).toBe(3);
    expect(posts.join("")).toBe(content);
    for (const post of posts) {
      expect(post.length).toBeLessThanOrEqual(3900);
    }
    for (const post of posts.slice(0, -1)) {
      expect(post.endsWith("\n")).toBe(true);
    }
    expect(posts[1].startsWith("0")).toBe(true);
  });

  test("text is sent literally: Slack's <, > and & are escaped, so a reply cannot mention @channel", async () => {
    const t = newBackend();
    const { sessionId } = await slackThread(t);
    await reply(t, sessionId, "if a < b && c > d then <!channel>");
    await settle(t, OUTBOX_ITERATIONS);
    expect(slack.calls[0].args.text).toBe("if a &lt; b &amp;&amp; c &gt; d then &lt;!channel&gt;");
  });

  test("replies to a channel go out in the order they were made, one request at a time, a second apart", async () => {
    const t = newBackend();
    const { sessionId } = await slackThread(t);
    const other = await slackThread(t);
    for (const text of ["first", "second", "third"]) {
      await reply(t, sessionId, text);
      await reply(t, other.sessionId, `other ${text}`);
    }
    await settle(t, OUTBOX_ITERATIONS);

    const inChannel = slack.calls.filter(({ args }) => args.thread_ts !== other.threadTs);
    expect(inChannel.map(({ args }) => args.text)).toEqual(["first", "second", "third"]);
    expect(slack.calls.filter(({ args }) => args.thread_ts === other.threadTs).map(({ args }) => args.text)).toEqual([
      "other first",
      "other second",
      "other third",
    ]);
    const times = slack.calls.map(({ at }) => at);
    for (let i = 1; i < times.length; i += 1) {
      expect(times[i] - times[i - 1], "one request per second in a channel").toBeGreaterThanOrEqual(1000);
    }
  });

  test("Slack's echo of the bot's own post is not appended to the session again", async () => {
    vi.stubEnv("SLACK_BOT_USER_ID", "");
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    await reply(t, sessionId, "On it: looking at build 4812's auth changes.");
    await settle(t, OUTBOX_ITERATIONS);
    const [posted] = slack.thread(CHANNEL, threadTs);
    const before = await messagesOf(t, sessionId);

    // The bot's post as Slack sends it back, here without bot_id and with no SLACK_BOT_USER_ID to recognise it.
    const echo = await postSlackEvent(t, {
      type: "event_callback",
      team_id: TEAM,
      event_id: "Ev0ECHO",
      event_time: Math.floor(Date.now() / 1000),
      event: { type: "message", user: BOT_USER, text: posted.text, ts: posted.ts, thread_ts: threadTs, channel: CHANNEL },
    });
    expect(echo.status).toBe(200);
    await settle(t, OUTBOX_ITERATIONS);
    expect(await messagesOf(t, sessionId)).toEqual(before);
    expect(before.map((message) => message.role)).toEqual(["user", "assistant"]);
  });

  test("deleting one part of the bot's split reply in Slack leaves the assistant's message whole", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    const content = Array.from({ length: 120 }, (_, i) => `${i} ${"step ".repeat(15)}`).join("\n");
    await reply(t, sessionId, content);
    await settle(t, OUTBOX_ITERATIONS);
    const posts = slack.thread(CHANNEL, threadTs);
    expect(posts).toHaveLength(3);
    const before = await messagesOf(t, sessionId);

    const deleted = await postSlackEvent(t, {
      type: "event_callback",
      team_id: TEAM,
      event_id: "Ev0DELETEPART",
      event_time: Math.floor(Date.now() / 1000),
      event: {
        type: "message",
        subtype: "message_deleted",
        channel: CHANNEL,
        deleted_ts: posts[2].ts,
        ts: "1747213999.000001",
        previous_message: { type: "message", bot_id: "B0JANGAR", user: BOT_USER, text: posts[2].text, ts: posts[2].ts, thread_ts: threadTs },
      },
    });
    expect(deleted.status).toBe(200);
    await settle(t, OUTBOX_ITERATIONS);
    expect(await messagesOf(t, sessionId)).toEqual(before);
    expect(before.map((message) => [message.role, message.content])).toEqual([
      ["user", expect.any(String)],
      ["assistant", content],
    ]);
  });

  test("an edit of the bot's post that Slack sends back does not rewrite the assistant's message", async () => {
    vi.stubEnv("SLACK_BOT_USER_ID", "");
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    await reply(t, sessionId, "On it.");
    await settle(t, OUTBOX_ITERATIONS);
    const [posted] = slack.thread(CHANNEL, threadTs);
    const before = await messagesOf(t, sessionId);

    // As Slack sends it, here without bot_id and with no SLACK_BOT_USER_ID to recognise the bot.
    const edited = await postSlackEvent(t, {
      type: "event_callback",
      team_id: TEAM,
      event_id: "Ev0EDITBOT",
      event_time: Math.floor(Date.now() / 1000),
      event: {
        type: "message",
        subtype: "message_changed",
        channel: CHANNEL,
        ts: "1747214250.000300",
        message: { type: "message", user: BOT_USER, text: "Rewritten.", ts: posted.ts, thread_ts: threadTs, edited: { user: BOT_USER, ts: "1747214250.000300" } },
        previous_message: { type: "message", user: BOT_USER, text: posted.text, ts: posted.ts, thread_ts: threadTs },
      },
    });
    expect(edited.status).toBe(200);
    await settle(t, OUTBOX_ITERATIONS);
    expect(await messagesOf(t, sessionId)).toEqual(before);
  });

  test("an assistant's message delivered by the events endpoint is posted once, however often it is redelivered or replayed", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    const reply = messageCreated(sessionId, { role: "assistant", content: "Fixed in #12." });
    const sent = await postEvent(t, { event: reply });
    expect(sent.body.status).toBe("accepted");
    await settle(t, OUTBOX_ITERATIONS);
    const again = await postEvent(t, { id: sent.id, event: reply });
    expect(again.body.status).toBe("duplicate");
    await t.mutation(internal.ingest.replay, { deliveryId: sent.body.delivery as Id<"webhook_deliveries"> });
    await settle(t, OUTBOX_ITERATIONS);

    expect(slack.thread(CHANNEL, threadTs).map((message) => message.text)).toEqual(["Fixed in #12."]);
    expect(slack.calls).toHaveLength(1);
  });

  test("a session without a Slack thread posts nothing", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    await reply(t, sessionId, "Done.");
    await newWorkOrder(t, sessionId);
    await settle(t, OUTBOX_ITERATIONS);
    expect(slack.calls).toEqual([]);
    expect(await outboxRows(t)).toEqual([]);
  });
});

/** The one message the bot holds in a thread: the card. */
function cardIn(threadTs: string): SlackMessage {
  const messages = slack.thread(CHANNEL, threadTs);
  expect(messages).toHaveLength(1);
  return messages[0];
}

describe("work-order cards", () => {
  test("a card is posted when the order is created, then edited in place through accepted, running, a pull request and succeeded", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    const workOrderId = await newWorkOrder(t, sessionId, { title: "SSO login" });
    await settle(t, OUTBOX_ITERATIONS);
    const card = cardIn(threadTs);
    expect(slack.calls.map(({ method }) => method)).toEqual(["chat.postMessage"]);
    expect(card.text).toContain("SSO login");
    expect(card.text).toContain("submitted");
    expect(JSON.stringify(card.blocks)).toContain(workOrderId);

    const service = asService(t);
    const seen: string[] = [];
    for (const status of ["accepted", "running"] as const) {
      await service.mutation(api.workOrders.updateStatus, { workOrderId, status });
      await settle(t, OUTBOX_ITERATIONS);
      seen.push(cardIn(threadTs).text);
    }
    await service.mutation(api.workOrderLinks.add, { workOrderId, kind: "pr", value: "https://github.com/Acme/API/pull/12" });
    await settle(t, OUTBOX_ITERATIONS);
    seen.push(cardIn(threadTs).text);
    // A commit is not shown on the card: no edit.
    await service.mutation(api.workOrderLinks.add, { workOrderId, kind: "commit", value: "a".repeat(40) });
    await service.mutation(api.workOrders.updateStatus, { workOrderId, status: "succeeded" });
    await settle(t, OUTBOX_ITERATIONS);
    seen.push(cardIn(threadTs).text);

    expect(seen).toEqual([
      "Work order SSO login: accepted",
      "Work order SSO login: running",
      "Work order SSO login: running · PR <https://github.com/acme/api/pull/12|acme/api#12>",
      "Work order SSO login: succeeded · PR <https://github.com/acme/api/pull/12|acme/api#12>",
    ]);
    expect(slack.calls.map(({ method, args }) => [method, args.ts])).toEqual([
      ["chat.postMessage", undefined],
      ...Array.from({ length: 4 }, () => ["chat.update", card.ts]),
    ]);
    expect(cardIn(threadTs).edits).toBe(4);
    expect(JSON.stringify(cardIn(threadTs).blocks)).toContain(":white_check_mark: Succeeded");
  });

  test("a pull request merged on GitHub shows on the card, with the order succeeded", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    const workOrderId = await newWorkOrder(t, sessionId, { title: "SSO login", target: { targetRepo: "acme/api", targetBranch: "feature/sso" } });
    await settle(t, OUTBOX_ITERATIONS);
    const { postGithub } = await import("../helpers/senders/github");
    const merged = await postGithub(t, {
      event: "pull_request",
      payload: {
        action: "closed",
        repository: { full_name: "Acme/API" },
        pull_request: {
          html_url: "https://github.com/Acme/API/pull/12",
          body: `Work-Order: ${workOrderId}`,
          merged: true,
          merge_commit_sha: "b".repeat(40),
          head: { ref: "feature/sso", repo: { full_name: "Acme/API" } },
        },
      },
    });
    expect(merged.status).toBe(200);
    await settle(t, OUTBOX_ITERATIONS);
    expect(cardIn(threadTs).text).toBe("Work order SSO login: succeeded · PR <https://github.com/acme/api/pull/12|acme/api#12>");
    expect(slack.calls.map(({ method }) => method)).toEqual(["chat.postMessage", "chat.update"]);
  });

  test("changes made while a card waits collapse into one request showing the latest", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    const workOrderId = await newWorkOrder(t, sessionId, { title: "SSO login" });
    const service = asService(t);
    for (const status of ["accepted", "running"] as const) {
      await service.mutation(api.workOrders.updateStatus, { workOrderId, status });
    }
    await settle(t, OUTBOX_ITERATIONS);
    expect(slack.calls.map(({ method }) => method)).toEqual(["chat.postMessage"]);
    expect(cardIn(threadTs).text).toBe("Work order SSO login: running");

    await service.mutation(api.workOrderLinks.add, { workOrderId, kind: "pr", value: "https://github.com/acme/api/pull/12" });
    await service.mutation(api.workOrderLinks.add, { workOrderId, kind: "pr", value: "https://github.com/acme/api/pull/13" });
    await service.mutation(api.workOrders.updateStatus, { workOrderId, status: "failed" });
    await settle(t, OUTBOX_ITERATIONS);
    expect(slack.calls.map(({ method }) => method)).toEqual(["chat.postMessage", "chat.update"]);
    expect(cardIn(threadTs).text).toBe(
      "Work order SSO login: failed · PR <https://github.com/acme/api/pull/12|acme/api#12> · PR <https://github.com/acme/api/pull/13|acme/api#13>",
    );
  });

  test("an edit made while the card's post is being retried waits for its ts: the card is posted once", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    slack.answerNext({ status: 503 });
    const workOrderId = await newWorkOrder(t, sessionId, { title: "SSO login" });
    // Runs the post, which Slack answers 503, and records it for a retry.
    await t.finishInProgressScheduledFunctions();
    await vi.advanceTimersByTimeAsync(0);
    await t.finishInProgressScheduledFunctions();
    expect(slack.calls).toHaveLength(1);
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: "accepted" });
    await settle(t, OUTBOX_ITERATIONS);

    expect(slack.calls.map(({ method, answer }) => [method, answer])).toEqual([
      ["chat.postMessage", { status: 503 }],
      ["chat.postMessage", "ok"],
    ]);
    expect(cardIn(threadTs).text).toBe("Work order SSO login: accepted");
  });

  test("an order created before its session was bound to a thread gets its card at its first change", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const workOrderId = await newWorkOrder(t, sessionId, { title: "SSO login" });
    await settle(t, OUTBOX_ITERATIONS);
    expect(slack.calls).toEqual([]);
    await t.run(async (ctx) => {
      await ctx.db.insert("slack_threads", { team: TEAM, channel: CHANNEL, threadTs: "1747213923.482109", sessionId });
    });
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: "accepted" });
    await settle(t, OUTBOX_ITERATIONS);
    expect(cardIn("1747213923.482109").text).toBe("Work order SSO login: accepted");
  });

  test("a card deleted in Slack is posted again at its order's next change, and later changes edit the new post", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    const workOrderId = await newWorkOrder(t, sessionId, { title: "SSO login" });
    await settle(t, OUTBOX_ITERATIONS);
    const deleted = cardIn(threadTs);
    slack.messages.splice(slack.messages.indexOf(deleted), 1);

    const service = asService(t);
    await service.mutation(api.workOrders.updateStatus, { workOrderId, status: "accepted" });
    await settle(t, OUTBOX_ITERATIONS);
    const reposted = cardIn(threadTs);
    expect(reposted.text).toBe("Work order SSO login: accepted");
    await service.mutation(api.workOrders.updateStatus, { workOrderId, status: "running" });
    await settle(t, OUTBOX_ITERATIONS);

    expect(cardIn(threadTs)).toMatchObject({ ts: reposted.ts, text: "Work order SSO login: running", edits: 1 });
    expect(slack.calls.map(({ method, args }) => [method, args.ts])).toEqual([
      ["chat.postMessage", undefined],
      ["chat.update", deleted.ts],
      ["chat.postMessage", undefined],
      ["chat.update", reposted.ts],
    ]);
    expect((await outboxRows(t)).map((row) => row.status)).toEqual(["sent", "sent", "sent"]);
  });

  test("a card edit left failed with message_not_found is posted again when an operator replays it", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    const workOrderId = await newWorkOrder(t, sessionId, { title: "SSO login" });
    await settle(t, OUTBOX_ITERATIONS);
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: "accepted" });
    await settle(t, OUTBOX_ITERATIONS);
    const deleted = cardIn(threadTs);
    slack.messages.splice(slack.messages.indexOf(deleted), 1);
    // The edit as an earlier version left it: failed, the card still holding the deleted post's ts.
    const edit = (await outboxRows(t)).find((row) => row.method === "chat.update")!;
    await t.run(async (ctx) => await ctx.db.patch("outbox", edit._id, { status: "failed", error: "message_not_found", httpStatus: 200 }));

    expect(await t.mutation(internal.outbox.replay, { rowId: edit._id })).toEqual({ rowId: edit._id, previousError: "message_not_found" });
    await settle(t, OUTBOX_ITERATIONS);
    expect(cardIn(threadTs)).toMatchObject({ text: "Work order SSO login: accepted", edits: 0 });
    expect(slack.calls.slice(2).map(({ method }) => method)).toEqual(["chat.update", "chat.postMessage"]);
    expect(await t.run(async (ctx) => (await ctx.db.get("outbox", edit._id))?.status)).toBe("sent");
  });
});

describe("delivery", () => {
  test("a network error, a 5xx and a 429 are retried with backoff, the 429 after Slack's Retry-After", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    slack.answerNext("network", { status: 502 }, { status: 429, retryAfter: "7" }, { error: "ratelimited" });
    await reply(t, sessionId, "Done.");
    await settle(t, OUTBOX_ITERATIONS);

    expect(slack.calls.map(({ answer }) => answer)).toEqual(["network", { status: 502 }, { status: 429, retryAfter: "7" }, { error: "ratelimited" }, "ok"]);
    const gaps = slack.calls.slice(1).map(({ at }, i) => at - slack.calls[i].at);
    // Backoff after the first, second and fourth attempts; Slack's Retry-After (7 s) after the third.
    for (const [i, attemptsMade] of [[0, 1], [1, 2], [3, 4]]) {
      expect(gaps[i]).toBeGreaterThanOrEqual(waitAfter(attemptsMade).minMs);
      expect(gaps[i]).toBeLessThanOrEqual(waitAfter(attemptsMade).maxMs);
    }
    expect(waitAfter(4).minMs).toBeGreaterThan(waitAfter(1).maxMs);
    expect(gaps[2]).toBe(7_000);
    expect(slack.thread(CHANNEL, threadTs).map((message) => message.text)).toEqual(["Done."]);
    // After the network error Slack may have posted it: each later attempt looks for it first.
    expect(slack.reads.map(({ method }) => method)).toEqual(Array.from({ length: 4 }, () => "conversations.replies"));
    const [row] = await outboxRows(t);
    expect(row).toMatchObject({ status: "sent", attempts: 5 });
    expect(row.error).toBeUndefined();
  });

  test("a request Slack never answers is abandoned after 10 seconds and retried", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    slack.answerNext("hang");
    await reply(t, sessionId, "Done.");
    await settle(t, OUTBOX_ITERATIONS);
    expect(slack.calls.map(({ answer }) => answer)).toEqual(["hang", "ok"]);
    expect(slack.calls[1].at - slack.calls[0].at - 10_000).toBeGreaterThanOrEqual(waitAfter(1).minMs);
    expect(slack.calls[1].at - slack.calls[0].at - 10_000).toBeLessThanOrEqual(waitAfter(1).maxMs);
    expect(slack.thread(CHANNEL, threadTs)).toHaveLength(1);
  });

  test.each<[string, SlackAnswer]>([
    ["never answered", "postedThenHang"],
    ["answered 503", { status: 503, posted: true }],
  ])("a post Slack made but %s is found in the thread by its marker and not posted again", async (_what, answer) => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    slack.answerNext(answer);
    const messageId = await reply(t, sessionId, "Done.");
    await settle(t, OUTBOX_ITERATIONS);
    const posts = slack.thread(CHANNEL, threadTs);
    expect(posts.map((message) => message.text)).toEqual(["Done."]);
    expect(slack.calls).toHaveLength(1);
    expect(slack.reads).toHaveLength(1);
    expect(await outboxRows(t)).toEqual([expect.objectContaining({ status: "sent", attempts: 2, result: posts[0].ts })]);
    // Its Slack origin is recorded as for any post: the echo is not appended.
    const origin = await t.run(
      async (ctx) =>
        await ctx.db
          .query("chat_message_origins")
          .withIndex("by_externalId_sessionId", (q) => q.eq("externalId", `slack:${TEAM}:${CHANNEL}:${posts[0].ts}`))
          .unique(),
    );
    expect(origin).toMatchObject({ messageId, outbound: true });
  });

  test("a card whose post got no answer is found in the thread, then edited in place: one card", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    slack.answerNext("postedThenHang");
    const workOrderId = await newWorkOrder(t, sessionId, { title: "SSO login" });
    await settle(t, OUTBOX_ITERATIONS);
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: "accepted" });
    await settle(t, OUTBOX_ITERATIONS);
    const [card] = slack.thread(CHANNEL, threadTs);
    expect(slack.thread(CHANNEL, threadTs)).toHaveLength(1);
    expect(card).toMatchObject({ text: "Work order SSO login: accepted", edits: 1 });
    expect(slack.calls.map(({ method }) => method)).toEqual(["chat.postMessage", "chat.update"]);
  });

  test("a post Slack did not make (no answer) is looked for, not found, and posted", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    slack.answerNext("hang", { status: 429, retryAfter: "3" });
    await reply(t, sessionId, "Done.");
    await settle(t, OUTBOX_ITERATIONS);
    expect(slack.thread(CHANNEL, threadTs).map((message) => message.text)).toEqual(["Done."]);
    expect(slack.calls.map(({ answer }) => answer)).toEqual(["hang", { status: 429, retryAfter: "3" }, "ok"]);
    expect(slack.reads).toHaveLength(2);
  });

  test("a post refused with a 429 or a permanent error is not looked for: Slack did not make it", async () => {
    const t = newBackend();
    const { sessionId } = await slackThread(t);
    slack.answerNext({ status: 429, retryAfter: "3" }, { error: "ratelimited" }, { error: "not_in_channel" });
    await reply(t, sessionId, "Done.");
    await settle(t, OUTBOX_ITERATIONS);
    expect(slack.calls).toHaveLength(3);
    expect(slack.reads).toEqual([]);
  });

  test("a thread that cannot be read (missing_scope) does not hold the post back: it is posted again, with a warning", async () => {
    const warnings: string[] = [];
    vi.spyOn(console, "warn").mockImplementation((line: unknown) => void warnings.push(String(line)));
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    slack.answerNext("postedThenHang");
    slack.answerNextRead({ error: "missing_scope" });
    await reply(t, sessionId, "Done.");
    await settle(t, OUTBOX_ITERATIONS);
    const [row] = await outboxRows(t);
    expect(row.status).toBe("sent");
    expect(slack.thread(CHANNEL, threadTs).map((message) => message.text)).toEqual(["Done.", "Done."]);
    expect(warnings).toEqual([
      `slackOutbox: row ${row._id} may already be posted, but its thread cannot be read (missing_scope); posting it again`,
    ]);
    vi.restoreAllMocks();
  });

  test("a thread Slack is too busy to read holds the post back until it can be read", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    slack.answerNext("postedThenHang");
    slack.answerNextRead({ status: 429, retryAfter: "60" });
    await reply(t, sessionId, "Done.");
    await settle(t, OUTBOX_ITERATIONS);
    expect(slack.thread(CHANNEL, threadTs).map((message) => message.text)).toEqual(["Done."]);
    expect(slack.calls).toHaveLength(1);
    expect(slack.reads.map(({ at }) => at - slack.reads[0].at)).toEqual([0, 60_000]);
  });

  test("a busy thread does not hide the post: one read from the first attempt that may have made it finds it among a hundred people's messages", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    const people = (count: number) => {
      for (let i = 0; i < count; i += 1) {
        slack.messages.push({ channel: CHANNEL, threadTs, ts: `${Math.floor(Date.now() / 1000)}.5${String(slack.messages.length).padStart(5, "0")}`, text: `me too ${i}`, edits: 0, user: "U0DAVE" });
      }
    };
    // The reply waits two minutes (a 429) while fifty people write; its next attempt is posted and never answered; fifty more write after it.
    slack.onCall = (event) => {
      if ("call" in event && (event.call.answer as { status?: number }).status === 429) {
        people(50);
      }
      if ("call" in event && event.call.method === "conversations.replies" && slack.reads.length === 1) {
        people(50);
      }
    };
    slack.answerNext({ status: 429, retryAfter: "120" }, "postedThenHang");
    await reply(t, sessionId, "Done.");
    await settle(t, OUTBOX_ITERATIONS);

    expect(slack.thread(CHANNEL, threadTs)).toHaveLength(101);
    expect(slack.thread(CHANNEL, threadTs).filter((message) => message.text === "Done.")).toHaveLength(1);
    expect(slack.calls.map(({ answer }) => answer)).toEqual([{ status: 429, retryAfter: "120" }, "postedThenHang"]);
    expect(slack.reads).toHaveLength(1);
    expect(await outboxRows(t)).toEqual([expect.objectContaining({ status: "sent", attempts: 3 })]);
  });

  test("a person's message carrying the post's marker does not stand for the post: the reply is posted", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    slack.answerNext("hang");
    await reply(t, sessionId, "Done.");
    const [row] = await outboxRows(t);
    slack.messages.push({ channel: CHANNEL, threadTs, ts: `${Math.floor(Date.now() / 1000)}.700000`, text: "Done.", metadata: { event_type: "jangar_outbox_post", event_payload: { post: row._id } }, edits: 0, user: "U0MALLORY" });
    await settle(t, OUTBOX_ITERATIONS);
    expect(slack.reads).toHaveLength(1);
    expect(slack.calls.map(({ answer }) => answer)).toEqual(["hang", "ok"]);
    expect(slack.thread(CHANNEL, threadTs).map((message) => message.user ?? "bot")).toEqual(["U0MALLORY", "bot"]);
  });

  test("a look Slack rate-limits waits for Slack's leave and costs no attempt: six 429s later the post is found, not posted again", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    slack.answerNext("postedThenHang");
    slack.answerNextRead(...Array.from({ length: 6 }, () => ({ status: 429 }) as const));
    await reply(t, sessionId, "Done.");
    await settle(t, OUTBOX_ITERATIONS);
    expect(slack.reads.map(({ at }) => at - slack.reads[0].at)).toEqual([0, 60_000, 120_000, 180_000, 240_000, 300_000, 360_000]);
    expect(slack.thread(CHANNEL, threadTs).map((message) => message.text)).toEqual(["Done."]);
    expect(slack.calls).toHaveLength(1);
    expect(await outboxRows(t)).toEqual([expect.objectContaining({ status: "sent", attempts: 2 })]);
  });

  test("a row waiting for its retry keeps a bounded error, however long the network's", async () => {
    const t = newBackend();
    const { sessionId } = await slackThread(t);
    let failures = 1;
    vi.stubGlobal("fetch", async (input: RequestInfo | URL, init?: RequestInit) => {
      if (failures-- > 0) {
        throw new TypeError(`fetch failed: ${"connection reset ".repeat(500)}`);
      }
      return await slack.fetch(input, init);
    });
    await reply(t, sessionId, "Done.");
    await t.finishInProgressScheduledFunctions();
    await vi.advanceTimersByTimeAsync(0);
    await t.finishInProgressScheduledFunctions();
    const [row] = await outboxRows(t);
    expect(row.status).toBe("queued");
    expect(row.error).toMatch(/^Slack is unreachable: fetch failed: connection reset .*…$/);
    expect(row.error!.length).toBeLessThanOrEqual(2000);
  });

  test("a retried post holds its channel back, so later posts still go out after it", async () => {
    const t = newBackend();
    const { sessionId } = await slackThread(t);
    slack.answerNext({ status: 429, retryAfter: "30" });
    await reply(t, sessionId, "first");
    await reply(t, sessionId, "second");
    await settle(t, OUTBOX_ITERATIONS);
    expect(slack.calls.map(({ args, answer }) => [args.text, answer])).toEqual([
      ["first", { status: 429, retryAfter: "30" }],
      ["first", "ok"],
      ["second", "ok"],
    ]);
  });

  test("a permanent Slack error ends that row failed and blocks nothing else", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    const elsewhere = await slackThread(t, "C0ARCHIVED");
    slack.refusedChannels.set("C0ARCHIVED", "is_archived");
    slack.answerNext({ error: "msg_too_long" });
    await reply(t, sessionId, "first");
    await reply(t, elsewhere.sessionId, "lost");
    await reply(t, sessionId, "second");
    const workOrderId = await newWorkOrder(t, sessionId, { title: "SSO login" });
    await settle(t, OUTBOX_ITERATIONS);

    expect(slack.thread(CHANNEL, threadTs).map((message) => message.text)).toEqual(["second", "Work order SSO login: submitted"]);
    const status = await outboxStatus(t);
    expect(countsOf(status)).toEqual({ queued: 0, sending: 0, sent: 2, failed: 2 });
    expect(status.recentFailures.map(({ lane, error, attempts }) => ({ lane, error, attempts })).sort((a, b) => a.lane.localeCompare(b.lane))).toEqual([
      { lane: `${TEAM}:${CHANNEL}`, error: "msg_too_long", attempts: 1 },
      { lane: `${TEAM}:C0ARCHIVED`, error: "is_archived", attempts: 1 },
    ]);
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: "accepted" });
    await settle(t, OUTBOX_ITERATIONS);
    expect(slack.thread(CHANNEL, threadTs).map((message) => message.text)).toEqual(["second", "Work order SSO login: accepted"]);
  });

  test("after its last attempt a row is failed with its error; an operator's replay sends it", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    slack.answerNext(...Array.from({ length: 6 }, () => ({ status: 503 }) as const));
    await reply(t, sessionId, "Done.");
    await settle(t, OUTBOX_ITERATIONS);
    expect(slack.calls).toHaveLength(6);
    const [row] = await outboxRows(t);
    expect(row).toMatchObject({ status: "failed", attempts: 6, error: "Slack answered HTTP 503. (gave up after 6 attempts)" });
    const inbox = await t.query(internal.ingest.inboxStatus, {});
    expect(inbox.outbound.filter(({ destination }) => destination === "slack")).toEqual([
      { destination: "slack", status: "queued", count: 0 },
      { destination: "slack", status: "sending", count: 0 },
      { destination: "slack", status: "sent", count: 0 },
      { destination: "slack", status: "failed", count: 1 },
    ]);

    expect(await t.mutation(internal.outbox.replay, { rowId: row._id })).toEqual({ rowId: row._id, previousError: row.error });
    await settle(t, OUTBOX_ITERATIONS);
    expect(slack.thread(CHANNEL, threadTs).map((message) => message.text)).toEqual(["Done."]);
    expect(countsOf(await outboxStatus(t))).toEqual({ queued: 0, sending: 0, sent: 1, failed: 0 });
    await expectConvexError(t.mutation(internal.outbox.replay, { rowId: row._id }), "INVALID_ARGUMENT");
  });

  test("a lost runner is replaced by the recovery cron; a runner still pending is left alone", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    await reply(t, sessionId, "Done.");
    const lane = await t.run(async (ctx) => (await ctx.db.query("outbox_lanes").collect())[0]);
    // Due long ago but still pending: Convex will run it, so nothing is added.
    await t.run(async (ctx) => await ctx.db.patch("outbox_lanes", lane._id, { runAt: Date.now() - 11 * 60_000 }));
    expect(await t.mutation(internal.outbox.maintenance.recoverLost, {})).toBe(0);
    // The run is lost: recovery starts another once it is overdue.
    await t.run(async (ctx) => await ctx.scheduler.cancel(lane.runner!));
    expect(await t.mutation(internal.outbox.maintenance.recoverLost, {})).toBe(0);
    await vi.advanceTimersByTimeAsync(11 * 60_000);
    expect(await t.mutation(internal.outbox.maintenance.recoverLost, {})).toBe(1);
    await settle(t, OUTBOX_ITERATIONS);
    expect(slack.thread(CHANNEL, threadTs).map((message) => message.text)).toEqual(["Done."]);
  });

  test("a row left sending by a run that died is sent again by the next run, and counted as an attempt", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    await reply(t, sessionId, "Done.");
    await t.run(async (ctx) => {
      const lane = (await ctx.db.query("outbox_lanes").collect())[0];
      await ctx.scheduler.cancel(lane.runner!);
      const row = (await ctx.db.query("outbox").collect())[0];
      await ctx.db.patch("outbox", row._id, { status: "sending", attempts: 1, method: "chat.postMessage" });
      await ctx.db.patch("outbox_lanes", lane._id, { runAt: Date.now() - 11 * 60_000 });
    });
    expect(await t.mutation(internal.outbox.maintenance.recoverLost, {})).toBe(1);
    await settle(t, OUTBOX_ITERATIONS);
    expect(slack.thread(CHANNEL, threadTs).map((message) => message.text)).toEqual(["Done."]);
    expect(await outboxRows(t)).toEqual([expect.objectContaining({ status: "sent", attempts: 2 })]);
    expect(slack.reads).toHaveLength(1);
  });

  test("a row left sending by a run that died after Slack posted it is found in the thread and recorded as sent", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    await reply(t, sessionId, "Done.");
    const row = (await outboxRows(t))[0];
    await t.run(async (ctx) => {
      const lane = (await ctx.db.query("outbox_lanes").collect())[0];
      await ctx.scheduler.cancel(lane.runner!);
      await ctx.db.patch("outbox", row._id, { status: "sending", attempts: 1, method: "chat.postMessage" });
      await ctx.db.patch("outbox_lanes", lane._id, { runAt: Date.now() - 11 * 60_000 });
    });
    // Slack had posted it before the run died.
    const ts = `${Math.floor(Date.now() / 1000)}.999999`;
    slack.messages.push({ channel: CHANNEL, ts, threadTs, text: "Done.", metadata: { event_type: "jangar_outbox_post", event_payload: { post: row._id } }, edits: 0 });
    expect(await t.mutation(internal.outbox.maintenance.recoverLost, {})).toBe(1);
    await settle(t, OUTBOX_ITERATIONS);
    expect(slack.thread(CHANNEL, threadTs)).toHaveLength(1);
    expect(slack.calls).toEqual([]);
    expect(await outboxRows(t)).toEqual([expect.objectContaining({ status: "sent", attempts: 2, result: ts })]);
  });

  test("a row queued while the token was set, and sent after it was removed, fails with that reason and is replayed once it is back", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    await reply(t, sessionId, "Done.");
    vi.stubEnv("SLACK_BOT_TOKEN", "");
    await settle(t, OUTBOX_ITERATIONS);
    expect(slack.calls).toEqual([]);
    const [row] = await outboxRows(t);
    expect(row).toMatchObject({ status: "failed", error: "SLACK_BOT_TOKEN is not set on this deployment; set it, then replay the row." });
    vi.stubEnv("SLACK_BOT_TOKEN", FAKE_SLACK_TOKEN);
    expect(await t.mutation(internal.outbox.replayFailed, {})).toEqual([row._id]);
    await settle(t, OUTBOX_ITERATIONS);
    expect(slack.thread(CHANNEL, threadTs).map((message) => message.text)).toEqual(["Done."]);
  });

  test("sent rows are purged after DELIVERY_RETENTION_DAYS; failed ones stay, and the counts follow", async () => {
    const t = newBackend();
    const { sessionId } = await slackThread(t);
    slack.answerNext({ error: "not_in_channel" });
    await reply(t, sessionId, "lost");
    await reply(t, sessionId, "kept");
    await settle(t, OUTBOX_ITERATIONS);
    await vi.advanceTimersByTimeAsync(29 * 24 * 60 * 60_000);
    expect(await t.mutation(internal.outbox.maintenance.purgeSent, {})).toBe(0);
    await vi.advanceTimersByTimeAsync(2 * 24 * 60 * 60_000);
    expect(await t.mutation(internal.outbox.maintenance.purgeSent, {})).toBe(1);
    expect((await outboxRows(t)).map((row) => [row.status, row.request.kind === "reply" && row.request.text])).toEqual([["failed", "lost"]]);
    expect(countsOf(await outboxStatus(t))).toEqual({ queued: 0, sending: 0, sent: 0, failed: 1 });
  });

  test("without SLACK_BOT_TOKEN nothing is posted or queued", async () => {
    vi.stubEnv("SLACK_BOT_TOKEN", "");
    const t = newBackend();
    const { sessionId } = await slackThread(t);
    await reply(t, sessionId, "Done.");
    const workOrderId = await newWorkOrder(t, sessionId);
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: "accepted" });
    await asService(t).mutation(api.workOrderLinks.add, { workOrderId, kind: "pr", value: "https://github.com/acme/api/pull/12" });
    await settle(t, OUTBOX_ITERATIONS);
    expect(slack.calls).toEqual([]);
    const tables = await snapshotTables(t);
    expect([tables.outbox, tables.slack_cards, tables.outbox_lanes, tables.outbox_counters]).toEqual([[], [], [], []]);
  });

  test("the bot token is sent as a bearer token and never stored or logged", async () => {
    const logged: unknown[] = [];
    for (const level of ["log", "warn", "error", "info"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void logged.push(args));
    }
    const t = newBackend();
    const { sessionId } = await slackThread(t);
    slack.answerNext("network", { error: "invalid_auth" });
    await reply(t, sessionId, "Done.");
    await newWorkOrder(t, sessionId);
    await settle(t, OUTBOX_ITERATIONS);
    expect(slack.calls).toHaveLength(3);
    expect(JSON.stringify(await snapshotTables(t))).not.toContain(FAKE_SLACK_TOKEN);
    expect(JSON.stringify(logged)).not.toContain(FAKE_SLACK_TOKEN);
    vi.restoreAllMocks();
  });
});

describe("the Slack outbox from before the outbox took any destination", () => {
  test("migrations:moveSlackOutbox moves queued and failed rows in their channel's order, drops sent ones, and the card still collapses", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    const thread = { team: TEAM, channel: CHANNEL, threadTs };
    const workOrderId = await t.run(async (ctx) => {
      const now = Date.now();
      const messageId = await ctx.db.insert("chat_messages", { sessionId, role: "assistant", content: "x", createdAt: now });
      const workOrderId = await ctx.db.insert("work_orders", {
        sessionId,
        workflowType: "codex-implement",
        prompt: "Fix SSO",
        title: "SSO login",
        status: "running",
        requestedBy: "alice",
        createdAt: now,
        updatedAt: now,
      });
      const reply = (text: string) => ({ kind: "reply" as const, messageId, part: 1, parts: 1, text });
      const legacy = async (request: Parameters<typeof ctx.db.insert<"slack_outbox">>[1]["request"], row: object) =>
        await ctx.db.insert("slack_outbox", { ...thread, request, attempts: 0, status: "queued", nextAttemptAt: now, ...row });
      await legacy(reply("old"), { status: "sent", attempts: 1, ts: "1747213923.000900", finishedAt: now });
      await legacy(reply("lost"), { status: "failed", attempts: 1, error: "not_in_channel", finishedAt: now });
      await legacy(reply("first"), {});
      const cardRow = await legacy({ kind: "card", workOrderId }, {});
      await legacy(reply("second"), { status: "sending", attempts: 1, method: "chat.postMessage" });
      await legacy({ kind: "ephemeral", user: ALICE, text: "Only you can see this." }, {});
      await ctx.db.insert("slack_cards", { workOrderId, ...thread, queued: cardRow });
      const runner = await ctx.scheduler.runAfter(60 * 60_000, internal.outbox.maintenance.purgeSent, {});
      await ctx.db.insert("slack_lanes", { team: TEAM, channel: CHANNEL, runner, runAt: now + 60 * 60_000 });
      await ctx.db.insert("slack_outbox_counters", { status: "queued", shard: 0, count: 4 });
      return workOrderId;
    });

    expect(await t.mutation(internal.migrations.moveSlackOutbox, {})).toEqual({ moved: 5, dropped: 1, done: false });
    // A change while the moved card row waits collapses into it.
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: "succeeded" });
    await settle(t, OUTBOX_ITERATIONS);

    const tables = await snapshotTables(t);
    expect([tables.slack_outbox, tables.slack_lanes, tables.slack_outbox_counters]).toEqual([[], [], []]);
    // The channel's rows in their order; the ephemeral answer on its person's own lane.
    expect(slack.calls.filter(({ method }) => method === "chat.postMessage").map(({ args }) => args.text)).toEqual([
      "first",
      "Work order SSO login: succeeded",
      "second",
    ]);
    expect(slack.ephemerals.map(({ user, text }) => [user, text])).toEqual([[ALICE, "Only you can see this."]]);
    // The row left sending is looked for in the thread before it is posted again.
    expect(slack.reads).toHaveLength(1);
    expect((await outboxRows(t)).map(({ request, status, attempts, error }) => [request.text ?? request.kind, status, attempts, error])).toEqual([
      ["lost", "failed", 1, "not_in_channel"],
      ["first", "sent", 1, undefined],
      ["card", "sent", 1, undefined],
      ["second", "sent", 2, undefined],
      ["Only you can see this.", "sent", 1, undefined],
    ]);
    const card = await t.run(async (ctx) => await ctx.db.query("slack_cards").first());
    expect(card).toMatchObject({ ts: slack.thread(CHANNEL, threadTs).find((message) => message.text.startsWith("Work order"))!.ts });
    expect(card?.queued).toBeUndefined();
    expect(countsOf(await outboxStatus(t))).toEqual({ queued: 0, sending: 0, sent: 4, failed: 1 });
    expect(await t.mutation(internal.migrations.moveSlackOutbox, {})).toEqual({ moved: 0, dropped: 0, done: true });
  });
});
