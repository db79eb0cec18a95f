import { beforeEach, describe, expect, test, vi } from "vitest";
import { newBackend } from "../../helpers/backend";
import { newSession, newWorkOrder, messagesOf } from "../../helpers/records";
import { OUTBOX_ITERATIONS, settle } from "../../helpers/clock";
import { BOT_USER, TEAM, postSlackEvent } from "../../helpers/senders/slack";
import { EVENTS_SECRET, messageCreated, postEvent } from "../../helpers/senders/events";
import { internal } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import { CHANNEL, reply, slackThread, withSlackOutbox } from "../../helpers/slack/outbox";
import { outboxRows } from "../../helpers/outbox/rows";

/*
 * An assistant's replies going back to the Slack thread of their session
 * (docs/contract.md#slack-replies-and-work-order-cards-outbound): what a
 * fake of Slack's Web API receives, and what the session holds after the
 * bot's posts come back.
 */

const fake = withSlackOutbox();

beforeEach(() => {
  vi.stubEnv("EVENTS_WEBHOOK_SECRET", EVENTS_SECRET);
});

describe("replies", () => {
  test("an assistant's message is posted once to the session's thread; user and system messages are not", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    await reply(t, sessionId, "Which deploy?", "user");
    const messageId = await reply(t, sessionId, "Build 4812 changed the auth middleware; I'll look at it.");
    await reply(t, sessionId, "Tool output: 3 files", "system");
    await settle(t, OUTBOX_ITERATIONS);
    await settle(t, OUTBOX_ITERATIONS);

    expect(fake.slack.calls.map(({ method, args }) => ({ method, args }))).toEqual([
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
    const [posted] = fake.slack.thread(CHANNEL, threadTs);
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

    const posts = fake.slack.thread(CHANNEL, threadTs).map((message) => message.text);
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
    expect(fake.slack.calls[0].args.text).toBe("if a &lt; b &amp;&amp; c &gt; d then &lt;!channel&gt;");
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

    const inChannel = fake.slack.calls.filter(({ args }) => args.thread_ts !== other.threadTs);
    expect(inChannel.map(({ args }) => args.text)).toEqual(["first", "second", "third"]);
    expect(fake.slack.calls.filter(({ args }) => args.thread_ts === other.threadTs).map(({ args }) => args.text)).toEqual([
      "other first",
      "other second",
      "other third",
    ]);
    const times = fake.slack.calls.map(({ at }) => at);
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
    const [posted] = fake.slack.thread(CHANNEL, threadTs);
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
    const posts = fake.slack.thread(CHANNEL, threadTs);
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
    const [posted] = fake.slack.thread(CHANNEL, threadTs);
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

    expect(fake.slack.thread(CHANNEL, threadTs).map((message) => message.text)).toEqual(["Fixed in #12."]);
    expect(fake.slack.calls).toHaveLength(1);
  });

  test("a session without a Slack thread posts nothing", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    await reply(t, sessionId, "Done.");
    await newWorkOrder(t, sessionId);
    await settle(t, OUTBOX_ITERATIONS);
    expect(fake.slack.calls).toEqual([]);
    expect(await outboxRows(t)).toEqual([]);
  });
});
