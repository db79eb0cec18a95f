import { beforeEach, describe, expect, test, vi } from "vitest";
import type { Id } from "../../convex/_generated/dataModel";
import { signSlackRequest } from "../../src/sources/slack/signature";
import aliceMentionsBot from "../../fixtures/slack/01-alice-mentions-bot.json";
import aliceSharesFile from "../../fixtures/slack/05-alice-shares-file.json";
import appRateLimited from "../../fixtures/slack/app-rate-limited.json";
import reactionAdded from "../../fixtures/slack/reaction-added.json";
import urlVerification from "../../fixtures/slack/url-verification.json";
import { newBackend } from "../helpers/backend";
import { expectEmptyBackend, snapshotTables } from "../helpers/assertions";
import { withFakeClock, settle } from "../helpers/clock";
import { messagesOf } from "../helpers/records";
import { ALICE, BOB, SLACK_SECRET, accepted, configureSlackApp, postSlack, postSlackEvent, slackSessionsOf, type SlackEnvelope } from "../helpers/senders/slack";
import { keptBodies, keptBodiesOf, stored, storedBody } from "../helpers/inbox/deliveries";

/*
 * POST /webhooks/slack as Slack sees it (docs/contract.md#3-webhook-routes,
 * docs/contract.md#slack-events-api-event_callback): the status and JSON
 * body of each answer, what a refused request leaves (nothing), and what
 * the inbox holds when the answer goes out, before any work is done.
 */

withFakeClock({ now: new Date("2025-05-14T09:00:00Z") });
beforeEach(() => {
  configureSlackApp();
});

const utf8 = new TextEncoder();

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
