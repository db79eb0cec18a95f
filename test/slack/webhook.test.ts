import { beforeEach, describe, expect, test, vi } from "vitest";
import type { Id } from "../../convex/_generated/dataModel";
import { signSlackRequest, verifySlackSignature } from "../../src/sources/slack/signature";
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
import appRateLimited from "../../fixtures/slack/app-rate-limited.json";
import reactionAdded from "../../fixtures/slack/reaction-added.json";
import urlVerification from "../../fixtures/slack/url-verification.json";
import { newBackend, type Backend } from "../helpers/backend";
import { snapshotTables } from "../helpers/assertions";
import { withFakeClock, settle } from "../helpers/clock";
import { messagesOf } from "../helpers/records";
import { ALICE, BOB, BOT_USER, SLACK_SECRET, TEAM, configureSlackApp, postSlack, postSlackEvent, slackSessionsOf, type SlackEnvelope } from "../helpers/senders/slack";
import { keptBodies, keptBodiesOf, stored, storedBody } from "../helpers/inbox";

/*
 * POST /webhooks/slack as Slack and the people in a Slack thread see it
 * (docs/contract.md#3-webhook-routes, docs/contract.md#slack-events-api-event_callback): the status and JSON body of each answer,
 * the chat sessions and messages Jangar's server reads back, and what the
 * inbox kept (webhook_deliveries rows, raw bodies in file storage).
 */

// The morning of the fixtures' conversation; posting an event moves the clock to it.
withFakeClock({ now: new Date("2025-05-14T09:00:00Z") });
beforeEach(() => {
  configureSlackApp();
});

const utf8 = new TextEncoder();

// The thread U01ALICE starts in C0AB1 by mentioning the bot.
const ROOT_TS = aliceMentionsBot.event.ts;
const CHANNEL = "C0AB1";

/** Every row of every table, and every blob: a refused request must leave all of them empty. */
async function expectEmptyBackend(t: Backend) {
  const tables = await snapshotTables(t);
  expect(Object.fromEntries(Object.entries(tables).filter(([, rows]) => rows.length > 0))).toEqual({});
  expect(await keptBodies(t)).toBe(0);
}

/** A copy of Alice's mention with another text (and, so as not to be a duplicate, another event id and ts). */
function mentionSaying(text: string, n: number): SlackEnvelope {
  const envelope = structuredClone(aliceMentionsBot);
  const ts = `${aliceMentionsBot.event_time + n}.000100`;
  envelope.event_id = `Ev08TITLE${String(n).padStart(3, "0")}`;
  envelope.event_time += n;
  Object.assign(envelope.event, { text, ts, event_ts: ts });
  return envelope;
}

/** The metadata a mirrored Slack message carries. */
function slackMetadata(user: string, ts: string, channel = CHANNEL, threadTs = ROOT_TS) {
  return { source: "slack", team: TEAM, channel, ts, thread_ts: threadTs, user };
}

const accepted = { status: 200, body: { status: "accepted", delivery: expect.any(String) } };

describe("Slack's signature (X-Slack-Signature v0)", () => {
  // https://api.slack.com/authentication/verifying-requests-from-slack
  const secret = "8f742231b10e8888abcd99yyyzzz85a5";
  const timestamp = "1531420618";
  const body = utf8.encode(
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c",
  );
  const signature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

  test("signing Slack's published request gives Slack's published signature", async () => {
    expect(await signSlackRequest(secret, timestamp, body)).toBe(signature);
  });

  test("the published signature verifies, and a one-byte change of body, timestamp, signature or secret does not", async () => {
    expect(await verifySlackSignature(secret, timestamp, body, signature)).toBe(true);
    const changedBody = body.slice();
    changedBody[changedBody.length - 1] ^= 0x01;
    expect(await verifySlackSignature(secret, timestamp, changedBody, signature)).toBe(false);
    expect(await verifySlackSignature(secret, "1531420619", body, signature)).toBe(false);
    expect(await verifySlackSignature(secret, timestamp, body, `${signature.slice(0, -1)}2`)).toBe(false);
    expect(await verifySlackSignature(`${secret.slice(0, -1)}6`, timestamp, body, signature)).toBe(false);
  });

  test.each([
    ["the bare hex without v0=", signature.slice("v0=".length)],
    ["a v1= signature", `v1=${signature.slice("v0=".length)}`],
    ["truncated hex", signature.slice(0, -2)],
    ["hex with a byte too many", `${signature}00`],
    ["non-hex digits", `v0=${"zz".repeat(32)}`],
    ["the prefix alone", "v0="],
    ["an empty header", ""],
    ["two signatures joined with a comma", `${signature},${signature}`],
  ])("a malformed signature (%s) is false, without throwing", async (_form, malformed) => {
    await expect(verifySlackSignature(secret, timestamp, body, malformed)).resolves.toBe(false);
  });
});

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

describe("POST /webhooks/slack: session titles", () => {
  test("a mention that is only the bot's mention gets a non-empty title", async () => {
    const t = newBackend();
    expect(await postSlackEvent(t, mentionSaying(`<@${BOT_USER}>`, 1))).toEqual(accepted);
    await settle(t);
    const [session] = await slackSessionsOf(t, ALICE);
    expect(session.title.trim()).not.toBe("");
    expect(session.title).not.toContain(BOT_USER);
    expect((await messagesOf(t, session._id)).map((message) => message.content)).toEqual([`<@${BOT_USER}>`]);
  });

  test("a long mention is cut to a title of at most 80 characters, taken from the start of its text", async () => {
    const t = newBackend();
    const words =
      "the login page 500s after every deploy since Tuesday, and the SSO callback logs a TypeError about idToken; can you look at build 4812 and the auth client bump it shipped?";
    expect(words.length).toBeGreaterThan(120);
    const text = `<@${BOT_USER}> ${words}`;
    expect(await postSlackEvent(t, mentionSaying(text, 2))).toEqual(accepted);
    await settle(t);
    const [session] = await slackSessionsOf(t, ALICE);
    expect(session.title.length).toBeLessThanOrEqual(80);
    expect(session.title.length).toBeGreaterThan(40);
    expect(words.startsWith(session.title.replace(/…$/, ""))).toBe(true);
    // The message itself is kept whole.
    expect((await messagesOf(t, session._id)).map((message) => message.content)).toEqual([text]);
  });

  test("a title cut next to an emoji keeps the emoji whole or leaves it out, never half of it", async () => {
    const t = newBackend();
    const words = `${"the login page 500s after deploy, ".repeat(3).slice(0, 78)}🚀🚀🚀 and then some more`;
    await postSlackEvent(t, mentionSaying(`<@${BOT_USER}> ${words}`, 5));
    await settle(t);
    const [session] = await slackSessionsOf(t, ALICE);
    expect(session.title).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    expect([...session.title].length).toBeLessThanOrEqual(80);
  });

  test("other people mentioned in the text stay in the title as @user", async () => {
    const t = newBackend();
    await postSlackEvent(t, mentionSaying(`<@${BOT_USER}> pair with <@U02BOB> on this`, 6));
    await settle(t);
    expect((await slackSessionsOf(t, ALICE)).map((session) => session.title)).toEqual(["pair with @U02BOB on this"]);
  });

  test("a mention written with the bot's display name (<@U…|name>) is left out of the title too", async () => {
    const t = newBackend();
    await postSlackEvent(t, mentionSaying(`<@${BOT_USER}|jangar> the login page 500s after deploy`, 3));
    await settle(t);
    expect((await slackSessionsOf(t, ALICE)).map((session) => session.title)).toEqual([
      "the login page 500s after deploy",
    ]);
  });

  test("a mention of a bot whose user id has an underscore (<@U_BOT>) is left out of the title", async () => {
    vi.stubEnv("SLACK_BOT_USER_ID", "U_BOT");
    const t = newBackend();
    await postSlackEvent(t, mentionSaying("<@U_BOT> the login page 500s after deploy", 4));
    await settle(t);
    expect((await slackSessionsOf(t, ALICE)).map((session) => session.title)).toEqual([
      "the login page 500s after deploy",
    ]);
  });
});

describe("POST /webhooks/slack: the response table", () => {
  test("url_verification, correctly signed, is answered 200 with exactly its challenge, and kept as an ignored delivery", async () => {
    const t = newBackend();
    const response = await postSlack(t, { payload: urlVerification });
    expect(response).toEqual({ status: 200, body: { challenge: urlVerification.challenge } });
    const again = await postSlack(t, { payload: urlVerification });
    expect(again).toEqual({ status: 200, body: { challenge: urlVerification.challenge } });
    const { deliveries } = await stored(t);
    expect(deliveries).toEqual([
      expect.objectContaining({
        source: "slack",
        event: "url_verification",
        deliveryKey: `url_verification:${urlVerification.challenge}`,
        status: "ignored",
      }),
    ]);
    expect(await keptBodies(t)).toBe(1);
  });

  test("url_verification signed with another secret is 401, without the challenge", async () => {
    const t = newBackend();
    const response = await postSlack(t, { payload: urlVerification, secret: "not the signing secret" });
    expect(response).toEqual({ status: 401, body: { error: expect.stringContaining("SLACK_SIGNING_SECRET") } });
    await expectEmptyBackend(t);
  });

  test.each(["X-Slack-Signature", "X-Slack-Request-Timestamp"])(
    "a callback without %s is 400 naming the header",
    async (header) => {
      const t = newBackend();
      const response = await postSlackEvent(t, aliceMentionsBot, { headers: { [header]: null } });
      expect(response).toEqual({ status: 400, body: { error: expect.stringContaining(header) } });
      await expectEmptyBackend(t);
    },
  );

  test("a callback signed with another secret is 401", async () => {
    const t = newBackend();
    const response = await postSlackEvent(t, aliceMentionsBot, { secret: "not the signing secret" });
    expect(response).toEqual({ status: 401, body: { error: expect.stringContaining("X-Slack-Signature") } });
    await expectEmptyBackend(t);
  });

  test("a signature made for another body is 401", async () => {
    const t = newBackend();
    vi.setSystemTime(aliceMentionsBot.event_time * 1000 + 1000);
    const timestamp = String(aliceMentionsBot.event_time + 1);
    const tampered = structuredClone(aliceMentionsBot);
    tampered.event.user = BOB;
    const response = await postSlack(t, {
      payload: tampered,
      timestamp,
      headers: {
        "X-Slack-Signature": await signSlackRequest(SLACK_SECRET, timestamp, utf8.encode(JSON.stringify(aliceMentionsBot))),
      },
    });
    expect(response.status).toBe(401);
    await expectEmptyBackend(t);
  });

  test.each([
    ["6 minutes in the past", -6 * 60],
    ["6 minutes in the future", 6 * 60],
  ])("a correctly signed callback whose timestamp is %s is 401", async (_label, offsetSeconds) => {
    const t = newBackend();
    const timestamp = String(aliceMentionsBot.event_time + 1 + offsetSeconds);
    const response = await postSlackEvent(t, aliceMentionsBot, { timestamp });
    expect(response).toEqual({ status: 401, body: { error: expect.stringContaining("X-Slack-Request-Timestamp") } });
    await expectEmptyBackend(t);
  });

  test.each([
    ["4 minutes in the past", -4 * 60],
    ["4 minutes in the future", 4 * 60],
  ])("a correctly signed callback whose timestamp is %s is accepted", async (_label, offsetSeconds) => {
    const t = newBackend();
    const timestamp = String(aliceMentionsBot.event_time + 1 + offsetSeconds);
    expect(await postSlackEvent(t, aliceMentionsBot, { timestamp })).toEqual(accepted);
    expect((await stored(t)).deliveries).toHaveLength(1);
  });

  test.each(["Wed, 14 May 2025 09:12:04 GMT", "", "1747213924.5", "-1747213924"])(
    "a timestamp that is not a number of seconds (%j), signed as sent, is refused",
    async (timestamp) => {
      const t = newBackend();
      const response = await postSlackEvent(t, aliceMentionsBot, { timestamp });
      // An empty header is a missing one (400); any other non-numeric value is outside the window (401).
      expect(response.status).toBe(timestamp === "" ? 400 : 401);
      expect(response.body.error).toEqual(expect.stringContaining("X-Slack-Request-Timestamp"));
      await expectEmptyBackend(t);
    },
  );

  test("a correctly signed body that is not JSON is 400", async () => {
    const t = newBackend();
    const response = await postSlack(t, { body: "type=event_callback&event_id=Ev08T3M1ALCE" });
    expect(response).toEqual({ status: 400, body: { error: expect.stringMatching(/not JSON/) } });
    await expectEmptyBackend(t);
  });

  test("an event_callback without event_id is 400 naming event_id", async () => {
    const t = newBackend();
    const withoutEventId: SlackEnvelope = structuredClone(aliceMentionsBot);
    delete withoutEventId.event_id;
    const response = await postSlackEvent(t, withoutEventId);
    expect(response).toEqual({ status: 400, body: { error: expect.stringContaining("event_id") } });
    await expectEmptyBackend(t);
  });

  test("an app_mention without user or channel is 400", async () => {
    const t = newBackend();
    const envelope = structuredClone(aliceMentionsBot);
    const event: Partial<typeof envelope.event> = envelope.event;
    delete event.channel;
    const response = await postSlackEvent(t, envelope);
    expect(response).toEqual({ status: 400, body: { error: expect.stringContaining("channel") } });
    await expectEmptyBackend(t);
  });

  test("a correctly signed body of another media type (text/plain) is 415, naming the JSON and form types taken", async () => {
    const t = newBackend();
    const response = await postSlack(t, { payload: aliceMentionsBot, headers: { "Content-Type": "text/plain" } });
    expect(response).toEqual({ status: 415, body: { error: expect.stringMatching(/application\/json.*application\/x-www-form-urlencoded/) } });
    await expectEmptyBackend(t);
  });

  test.each([
    ["unset", undefined],
    ["blank", "  "],
  ])("with SLACK_SIGNING_SECRET %s a correctly signed callback is 503 and nothing is stored", async (_label, value) => {
    vi.stubEnv("SLACK_SIGNING_SECRET", value);
    const t = newBackend();
    const response = await postSlackEvent(t, aliceMentionsBot);
    expect(response).toEqual({ status: 503, body: { error: expect.stringContaining("SLACK_SIGNING_SECRET") } });
    await expectEmptyBackend(t);
  });

  test("a body over WEBHOOK_MAX_BODY_BYTES is 413", async () => {
    vi.stubEnv("WEBHOOK_MAX_BODY_BYTES", "1024");
    const t = newBackend();
    expect(utf8.encode(JSON.stringify(aliceSharesFile)).length).toBeGreaterThan(1024);
    const response = await postSlackEvent(t, aliceSharesFile);
    expect(response).toEqual({ status: 413, body: { error: expect.stringContaining("WEBHOOK_MAX_BODY_BYTES") } });
    await expectEmptyBackend(t);
  });

  test("app_rate_limited is 200 ignored, and recorded with its body", async () => {
    const t = newBackend();
    const response = await postSlack(t, { payload: appRateLimited });
    expect(response).toEqual({
      status: 200,
      body: { status: "ignored", delivery: expect.any(String), reason: expect.any(String) },
    });
    await settle(t);
    const { deliveries } = await stored(t);
    expect(deliveries).toMatchObject([
      { _id: response.body.delivery, source: "slack", event: "app_rate_limited", status: "ignored", ignoredReason: response.body.reason },
    ]);
    expect(await keptBodiesOf(t)).toMatchObject([{ deliveryId: deliveries[0]._id }]);
    expect(await slackSessionsOf(t, ALICE)).toEqual([]);
  });

  test("an event this service does not act on (reaction_added) is 200 ignored with a reason, and recorded", async () => {
    const t = newBackend();
    const response = await postSlackEvent(t, reactionAdded);
    expect(response).toEqual({
      status: 200,
      body: { status: "ignored", delivery: expect.any(String), reason: expect.stringContaining("reaction_added") },
    });
    await settle(t);
    const { deliveries } = await stored(t);
    expect(deliveries).toMatchObject([
      { _id: response.body.delivery, deliveryKey: reactionAdded.event_id, event: "reaction_added", status: "ignored" },
    ]);
    expect(await keptBodies(t)).toBe(1);
  });
});

describe("POST /webhooks/slack: the answer comes before the work", () => {
  test("when the POST returns, the delivery is stored as accepted with its raw body, and no session or message exists yet", async () => {
    const t = newBackend();
    const body = utf8.encode(JSON.stringify(aliceMentionsBot));
    vi.setSystemTime(aliceMentionsBot.event_time * 1000 + 1000);
    const response = await postSlack(t, { body });
    expect(response).toEqual(accepted);

    const deliveryId = response.body.delivery as Id<"webhook_deliveries">;
    const { deliveries } = await stored(t);
    expect(deliveries).toMatchObject([
      {
        _id: deliveryId,
        source: "slack",
        deliveryKey: aliceMentionsBot.event_id,
        event: "app_mention",
        contentType: "application/json",
        bodyBytes: body.length,
        status: "accepted",
        attempts: 0,
      },
    ]);
    expect(await storedBody(t, deliveries[0]._id)).toEqual(Array.from(body));
    const before = await snapshotTables(t);
    expect({ sessions: before.chat_sessions, messages: before.chat_messages }).toEqual({ sessions: [], messages: [] });

    await settle(t);
    expect((await stored(t)).deliveries).toMatchObject([{ _id: deliveryId, status: "processed", attempts: 1 }]);
    const [session] = await slackSessionsOf(t, ALICE);
    expect(await messagesOf(t, session._id)).toHaveLength(1);
  });
});
