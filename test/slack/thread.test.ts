import { beforeEach, describe, expect, test } from "vitest";
import aliceMentionsBot from "../../fixtures/slack/01-alice-mentions-bot.json";
import aliceRootAsMessage from "../../fixtures/slack/02-alice-root-as-message.json";
import bobReplies from "../../fixtures/slack/03-bob-replies.json";
import aliceBroadcasts from "../../fixtures/slack/04-alice-broadcasts.json";
import aliceSharesFile from "../../fixtures/slack/05-alice-shares-file.json";
import botReplies from "../../fixtures/slack/06-bot-replies.json";
import botUserPostsWithoutBotId from "../../fixtures/slack/07-bot-user-posts-without-bot-id.json";
import bobMentionsBotInThread from "../../fixtures/slack/08-bob-mentions-bot-in-thread.json";
import bobMentionAsMessage from "../../fixtures/slack/09-bob-mention-as-message.json";
import bobEditsReply from "../../fixtures/slack/10-bob-edits-reply.json";
import aliceDeletesBroadcast from "../../fixtures/slack/11-alice-deletes-broadcast.json";
import carolPostsInUnboundChannel from "../../fixtures/slack/12-carol-posts-in-unbound-channel.json";
import bobMentionsBotAgain from "../../fixtures/slack/13-bob-mentions-bot-again.json";
import { newBackend } from "../helpers/backend";
import { expectEmptyBackend } from "../helpers/assertions";
import { withFakeClock, settle } from "../helpers/clock";
import { messagesOf } from "../helpers/records";
import { ALICE, BOB, BOT_USER, TEAM, accepted, configureSlackApp, postSlackEvent, slackSessionsOf, type SlackEnvelope } from "../helpers/senders/slack";
import { keptBodies, keptBodiesOf, stored } from "../helpers/inbox/deliveries";

/*
 * A Slack thread mirrored through POST /webhooks/slack
 * (docs/contract.md#slack-events-api-event_callback): the chat sessions and
 * messages Jangar's server reads back when people talk in a thread, when
 * Slack sends a message twice or again, and when edits arrive out of order;
 * and what the inbox kept.
 */

// The morning of the fixtures' conversation; posting an event moves the clock to it.
withFakeClock({ now: new Date("2025-05-14T09:00:00Z") });
beforeEach(() => {
  configureSlackApp();
});

// The thread U01ALICE starts in C0AB1 by mentioning the bot.
const ROOT_TS = aliceMentionsBot.event.ts;
const CHANNEL = "C0AB1";

/** The metadata a mirrored Slack message carries. */
function slackMetadata(user: string, ts: string, channel = CHANNEL, threadTs = ROOT_TS) {
  return { source: "slack", team: TEAM, channel, ts, thread_ts: threadTs, user };
}

describe("POST /webhooks/slack: a conversation in a thread", () => {
  test("the thread is mirrored as the people in it saw it: one session per mention, replies in order, edits and deletes applied, bots and other channels left out", async () => {
    const t = newBackend();
    /** Posts one callback as Slack does, then lets the inbox process it before the next one arrives. */
    const post = async (envelope: SlackEnvelope, delivery: Parameters<typeof postSlackEvent>[2] = {}) => {
      const response = await postSlackEvent(t, envelope, delivery);
      await settle(t);
      return response;
    };

    // Alice mentions the bot: a session; Slack also delivers the same message as a plain `message`.
    const mention = await post(aliceMentionsBot);
    expect(mention).toEqual(accepted);
    expect(await post(aliceRootAsMessage)).toEqual(accepted);
    // Replies: plain, broadcast to the channel too, and a file with text.
    const bobReply = await post(bobReplies);
    expect(bobReply).toEqual(accepted);
    expect(await post(aliceBroadcasts)).toEqual(accepted);
    expect(await post(aliceSharesFile)).toEqual(accepted);
    // The bot's own messages, with bot_id and from SLACK_BOT_USER_ID without one, are not mirrored.
    for (const fromBot of [botReplies, botUserPostsWithoutBotId]) {
      expect(await post(fromBot)).toEqual({
        status: 200,
        body: { status: "ignored", delivery: expect.any(String), reason: expect.stringMatching(/bot/) },
      });
    }
    // Bob mentions the bot inside the thread (app_mention and message for the one message): no new session.
    expect(await post(bobMentionsBotInThread)).toEqual(accepted);
    expect(await post(bobMentionAsMessage)).toEqual(accepted);
    // Bob edits his reply; Alice deletes her broadcast.
    expect(await post(bobEditsReply)).toEqual(accepted);
    expect(await post(aliceDeletesBroadcast)).toEqual(accepted);
    // Someone talks in a channel no thread of which is bound.
    const unbound = await post(carolPostsInUnboundChannel);
    expect(unbound).toEqual(accepted);
    // Slack did not see our answer to Bob's reply in time and sends it again.
    const retry = await post(bobReplies, { retry: { num: 1, reason: "http_timeout" } });
    expect(retry).toEqual({ status: 200, body: { status: "duplicate", delivery: bobReply.body.delivery } });
    // Bob mentions the bot at the top of the channel: a second thread, a second session.
    expect(await post(bobMentionsBotAgain)).toEqual(accepted);

    const [aliceSession, ...moreOfAlice] = await slackSessionsOf(t, ALICE);
    expect(moreOfAlice).toEqual([]);
    expect(aliceSession).toMatchObject({
      userId: `slack:${TEAM}:${ALICE}`,
      title: "the login page 500s after deploy, can you look?",
    });
    const thread = await messagesOf(t, aliceSession._id);
    expect(thread.map(({ role, content, metadata }) => ({ role, content, metadata }))).toEqual([
      {
        role: "user",
        content: `<@${BOT_USER}> the login page 500s after deploy, can you look?`,
        metadata: slackMetadata(ALICE, ROOT_TS),
      },
      {
        role: "user",
        content: "Same here, but only the SSO button: password login works",
        metadata: slackMetadata(BOB, bobReplies.event.ts),
      },
      {
        role: "user",
        content: "Stack trace from the 500, the auth callback throws",
        metadata: slackMetadata(ALICE, aliceSharesFile.event.ts),
      },
      {
        role: "user",
        content: `<@${BOT_USER}> it started with build 4812, the one that bumped the auth client`,
        metadata: slackMetadata(BOB, bobMentionsBotInThread.event.ts),
      },
    ]);
    const createdAt = thread.map((message) => message.createdAt);
    expect(createdAt).toEqual([...createdAt].sort((a, b) => a - b));

    const [bobSession, ...moreOfBob] = await slackSessionsOf(t, BOB);
    expect(moreOfBob).toEqual([]);
    expect(bobSession).toMatchObject({
      userId: `slack:${TEAM}:${BOB}`,
      title: "unrelated: please raise the session timeout to 30 minutes",
    });
    const secondThreadTs = bobMentionsBotAgain.event.ts;
    expect((await messagesOf(t, bobSession._id)).map(({ role, content, metadata }) => ({ role, content, metadata }))).toEqual([
      {
        role: "user",
        content: `<@${BOT_USER}> unrelated: please raise the session timeout to 30 minutes`,
        metadata: slackMetadata(BOB, secondThreadTs, CHANNEL, secondThreadTs),
      },
    ]);
    expect(await slackSessionsOf(t, "U03CAROL")).toEqual([]);

    // The inbox: one row and one body per event_id (the retry added neither), each with its outcome.
    const { deliveries } = await stored(t);
    expect(
      deliveries.map(({ deliveryKey, event, action, status, touchedCount }) => ({
        deliveryKey,
        event,
        action,
        status,
        touchedCount,
      })),
    ).toEqual([
      { deliveryKey: aliceMentionsBot.event_id, event: "app_mention", action: undefined, status: "processed", touchedCount: 2 },
      // The same message again: nothing appended twice.
      { deliveryKey: aliceRootAsMessage.event_id, event: "message", action: undefined, status: "processed", touchedCount: 0 },
      { deliveryKey: bobReplies.event_id, event: "message", action: undefined, status: "processed", touchedCount: 1 },
      { deliveryKey: aliceBroadcasts.event_id, event: "message", action: "thread_broadcast", status: "processed", touchedCount: 1 },
      { deliveryKey: aliceSharesFile.event_id, event: "message", action: "file_share", status: "processed", touchedCount: 1 },
      { deliveryKey: botReplies.event_id, event: "message", action: undefined, status: "ignored", touchedCount: undefined },
      { deliveryKey: botUserPostsWithoutBotId.event_id, event: "message", action: undefined, status: "ignored", touchedCount: undefined },
      { deliveryKey: bobMentionsBotInThread.event_id, event: "app_mention", action: undefined, status: "processed", touchedCount: 1 },
      { deliveryKey: bobMentionAsMessage.event_id, event: "message", action: undefined, status: "processed", touchedCount: 0 },
      { deliveryKey: bobEditsReply.event_id, event: "message", action: "message_changed", status: "processed", touchedCount: 1 },
      { deliveryKey: aliceDeletesBroadcast.event_id, event: "message", action: "message_deleted", status: "processed", touchedCount: 1 },
      { deliveryKey: carolPostsInUnboundChannel.event_id, event: "message", action: undefined, status: "ignored", touchedCount: 0 },
      { deliveryKey: bobMentionsBotAgain.event_id, event: "app_mention", action: undefined, status: "processed", touchedCount: 2 },
    ]);
    expect(deliveries.find((row) => row._id === unbound.body.delivery)?.ignoredReason).toEqual(
      expect.stringContaining("C0ZZ9"),
    );
    expect((await keptBodiesOf(t)).map((body) => body.deliveryId).sort()).toEqual(deliveries.map((row) => row._id).sort());
  });
});

describe("POST /webhooks/slack: the same message twice, and retries", () => {
  test("the plain message event arriving before its app_mention still gives one session with the message once", async () => {
    const t = newBackend();
    expect(await postSlackEvent(t, aliceRootAsMessage)).toEqual(accepted);
    await settle(t);
    expect(await slackSessionsOf(t, ALICE)).toEqual([]);
    expect(await postSlackEvent(t, aliceMentionsBot)).toEqual(accepted);
    await settle(t);
    const [session, ...others] = await slackSessionsOf(t, ALICE);
    expect(others).toEqual([]);
    expect((await messagesOf(t, session._id)).map(({ content, metadata }) => ({ content, metadata }))).toEqual([
      { content: aliceMentionsBot.event.text, metadata: slackMetadata(ALICE, ROOT_TS) },
    ]);
  });

  test("a retry whose first attempt was refused (401, a clock out of sync) is accepted and processed normally", async () => {
    const t = newBackend();
    const firstAttempt = await postSlackEvent(t, aliceMentionsBot, {
      timestamp: String(aliceMentionsBot.event_time - 6 * 60),
    });
    expect(firstAttempt.status).toBe(401);
    await expectEmptyBackend(t);

    const retry = await postSlackEvent(t, aliceMentionsBot, { retry: { num: 1, reason: "http_error" } });
    expect(retry).toEqual(accepted);
    await settle(t);
    const [session] = await slackSessionsOf(t, ALICE);
    expect(session.title).toBe("the login page 500s after deploy, can you look?");
    expect(await messagesOf(t, session._id)).toHaveLength(1);
    expect((await stored(t)).deliveries).toMatchObject([
      { _id: retry.body.delivery, deliveryKey: aliceMentionsBot.event_id, status: "processed" },
    ]);
  });

  test("a retry that arrives before the original is accepted; the original is then the duplicate", async () => {
    const t = newBackend();
    const retry = await postSlackEvent(t, aliceMentionsBot, { retry: { num: 1, reason: "http_timeout" } });
    expect(retry).toEqual(accepted);
    const original = await postSlackEvent(t, aliceMentionsBot);
    expect(original).toEqual({ status: 200, body: { status: "duplicate", delivery: retry.body.delivery } });
    await settle(t);
    const sessions = await slackSessionsOf(t, ALICE);
    expect(sessions).toHaveLength(1);
    expect(await messagesOf(t, sessions[0]._id)).toHaveLength(1);
    const { deliveries } = await stored(t);
    expect(deliveries).toHaveLength(1);
    expect(await keptBodies(t)).toBe(1);
  });
});

describe("POST /webhooks/slack: edits out of order", () => {
  test("an older edit processed after a newer one does not overwrite it", async () => {
    const t = newBackend();
    for (const envelope of [aliceMentionsBot, bobReplies]) {
      await postSlackEvent(t, envelope);
      await settle(t);
    }
    // Bob edits twice; Slack's second edit is delivered (and processed) first.
    const firstEdit = structuredClone(bobEditsReply);
    firstEdit.event_id = "Ev08T3V6EDIT1";
    firstEdit.event.message.text = "Same here (first edit)";
    firstEdit.event.message.edited.ts = "1747214100.000100";
    const secondEdit = structuredClone(bobEditsReply);
    secondEdit.event_id = "Ev08T3V6EDIT2";
    secondEdit.event.message.text = "Same here (second edit)";
    secondEdit.event.message.edited.ts = "1747214250.000300";
    await postSlackEvent(t, secondEdit);
    await settle(t);
    const late = await postSlackEvent(t, firstEdit);
    await settle(t);

    const [session] = await slackSessionsOf(t, ALICE);
    expect((await messagesOf(t, session._id)).map((message) => message.content)).toEqual([
      aliceMentionsBot.event.text,
      "Same here (second edit)",
    ]);
    expect((await stored(t)).deliveries.find((delivery) => delivery._id === late.body.delivery)).toMatchObject({
      status: "ignored",
      ignoredReason: expect.stringContaining("later edit"),
    });
  });
});
