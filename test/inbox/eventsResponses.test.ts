import { describe, expect, test, vi } from "vitest";
import { signStandardWebhook } from "../../src/sources/events/signature";
import { STANDARD_EVENTS } from "../../src/sources/events/standardEvents";
import { newBackend, type Backend } from "../helpers/backend";
import { accepted, EVENTS_NOW, EVENTS_SECRET, event, eventsRequest, linkAdded, messageCreated, onEventsEndpoint, postEvent, statusChanged, type EventEnvelope } from "../helpers/senders/events";
import { newSession } from "../helpers/records";
import { settle } from "../helpers/clock";
import { deliveryRow, expectNothingStored, stored, storedBody } from "../helpers/inbox/deliveries";

/*
 * POST /webhooks/events (docs/contract.md#3-webhook-routes): what the sender
 * sees for each request, signed or not, well-formed or not, and what the
 * inbox keeps of it.
 */

onEventsEndpoint();

const MINUTE_S = 60;
const utf8 = new TextEncoder();

describe("invalid data: 400 naming the field, nothing stored", () => {
  const SESSION = "k57f8gq2wz0d4r8qnw1h3x6f9s7v2c1b";
  const ORDER = "j97cr3qbm4z1r2f0c7x8g6w5n4e3k2a1";
  test.each<[string, EventEnvelope, RegExp]>([
    ["an unknown role", messageCreated(SESSION, { role: "robot", content: "hi" }), /chat\.message\.created event's data is invalid: data\.role: /],
    ["empty content", messageCreated(SESSION, { role: "user", content: "  " }), /data\.content: content must not be empty/],
    ["a missing sessionId", event("chat.message.created", { role: "user", content: "hi" }), /sessionId: /],
    ["an unknown status", statusChanged(ORDER, "done"), /work_order\.status\.changed event's data is invalid: data\.status: /],
    [
      "a pr link that is an issue URL",
      linkAdded(ORDER, "pr", "https://github.com/acme/widgets/issues/42"),
      /work_order\.link\.added event's data is invalid: data\.value: A pr link needs an https URL/,
    ],
    ["a commit link that is not a SHA", linkAdded(ORDER, "commit", "main"), /value: A commit link needs a 40-character/],
    ["an unknown link kind", linkAdded(ORDER, "branch", "main"), /kind: /],
    ["missing data", { type: "work_order.status.changed", timestamp: EVENTS_NOW.toISOString() }, /event: data: /],
    [
      "data that is null",
      { type: "work_order.status.changed", data: null },
      /work_order\.status\.changed event's data is invalid: .*expected object, received null/,
    ],
    ["a type that is not a string", { type: 7, data: {} } as unknown as EventEnvelope, /not a \{ type, timestamp, data \} event: type: /],
  ])("%s", async (_label, sent, message) => {
    const t = newBackend();
    const response = await postEvent(t, { event: sent });
    expect(response).toMatchObject({ status: 400, body: { error: expect.stringMatching(message) } });
    await expectNothingStored(t);
  });

  test.each(Object.keys(STANDARD_EVENTS))("every type acted on reads its data: %s with data that is null is 400, naming the type", async (type) => {
    const t = newBackend();
    const response = await postEvent(t, { event: event(type, null) });
    expect(response).toMatchObject({ status: 400, body: { error: expect.stringContaining(`The ${type} event's data is invalid: `) } });
    await expectNothingStored(t);
  });

  test("an unknown event type is 200 ignored with a reason, recorded with its body, and never processed", async () => {
    const t = newBackend();
    const sent = event("work_order.comment.added", { workOrderId: "x", text: "hello" });
    const response = await postEvent(t, { event: sent });
    expect(response).toMatchObject({
      status: 200,
      body: { status: "ignored", delivery: expect.any(String), reason: "Event type work_order.comment.added is not acted on." },
    });
    const again = await postEvent(t, { event: sent, id: response.id });
    expect(again.body).toEqual({ status: "duplicate", delivery: response.body.delivery });
    await settle(t);
    const row = await deliveryRow(t, response.body.delivery);
    expect(row).toMatchObject({
      source: "events",
      deliveryKey: response.id,
      event: "work_order.comment.added",
      status: "ignored",
      attempts: 0,
      ignoredReason: response.body.reason,
    });
    expect(await storedBody(t, row._id)).toEqual(Array.from(utf8.encode(JSON.stringify(sent))));
  });
});

describe("POST /webhooks/events: the response table", () => {
  /** A valid delivery: a chat message to a session that exists. */
  async function chatEvent(t: Backend) {
    const sessionId = await newSession(t, "alice");
    return messageCreated(sessionId, { role: "user", content: "Ship it." });
  }

  test.each([
    ["webhook-id", "svix-id"],
    ["webhook-timestamp", "svix-timestamp"],
    ["webhook-signature", "svix-signature"],
  ])("a delivery without %s is 400 naming it (and %s)", async (header, svixHeader) => {
    const t = newBackend();
    const response = await postEvent(t, { event: await chatEvent(t), headers: { [header]: null } });
    expect(response).toMatchObject({
      status: 400,
      body: { error: expect.stringContaining(`Missing header ${header} (or ${svixHeader})`) },
    });
    await expectNothingStored(t);
  });

  test("an empty header counts as missing; several missing are all named", async () => {
    const t = newBackend();
    const sent = await chatEvent(t);
    const empty = await postEvent(t, { event: sent, headers: { "webhook-signature": "" } });
    expect(empty).toMatchObject({ status: 400, body: { error: expect.stringContaining("webhook-signature") } });
    const bare = await postEvent(t, { event: sent, headers: { "webhook-id": null, "webhook-timestamp": null } });
    expect(bare).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/Missing headers webhook-id \(or svix-id\), webhook-timestamp/) },
    });
    await expectNothingStored(t);
  });

  test("svix-id/svix-timestamp/svix-signature are accepted like webhook-*, and the two spellings share delivery keys", async () => {
    const t = newBackend();
    const sent = await chatEvent(t);
    const svix = await postEvent(t, { event: sent, svixHeaders: true });
    expect(svix).toMatchObject({ status: 200, body: accepted });
    const standard = await postEvent(t, { event: sent, id: svix.id });
    expect(standard.body).toEqual({ status: "duplicate", delivery: svix.body.delivery });
    expect(await deliveryRow(t, svix.body.delivery)).toMatchObject({ deliveryKey: svix.id });
  });

  test("a signature made with another key, or for another body, is 401 and nothing is stored", async () => {
    const t = newBackend();
    const sent = await chatEvent(t);
    const otherKey = await postEvent(t, { event: sent, secret: "whsec_c29tZW9uZSBlbHNlIHMga2V5IDAwMDM=" });
    expect(otherKey).toMatchObject({ status: 401, body: { error: expect.stringContaining("webhook-signature") } });
    const { init } = await eventsRequest({ event: sent });
    const tampered = await t.fetch("/webhooks/events", {
      ...init,
      body: JSON.stringify({ ...sent, data: { ...(sent.data as object), content: "Do not ship it." } }),
    });
    expect(tampered.status).toBe(401);
    await expectNothingStored(t);
  });

  test.each([
    ["six minutes old", -6 * MINUTE_S],
    ["five minutes and a second old", -5 * MINUTE_S - 1],
    ["six minutes ahead", 6 * MINUTE_S],
    ["five minutes and a second ahead", 5 * MINUTE_S + 1],
  ])("a timestamp %s is 401 naming webhook-timestamp", async (_label, offset) => {
    const t = newBackend();
    const timestamp = EVENTS_NOW.getTime() / 1000 + offset;
    const response = await postEvent(t, { event: await chatEvent(t), timestamp });
    expect(response).toMatchObject({ status: 401, body: { error: expect.stringContaining("webhook-timestamp") } });
    await expectNothingStored(t);
  });

  test("timestamps exactly five minutes old or ahead are inside the window", async () => {
    const t = newBackend();
    const sent = await chatEvent(t);
    for (const offset of [-5 * MINUTE_S, 5 * MINUTE_S]) {
      const response = await postEvent(t, { event: sent, timestamp: EVENTS_NOW.getTime() / 1000 + offset });
      expect(response).toMatchObject({ status: 200, body: accepted });
    }
  });

  test("a non-numeric timestamp is 401", async () => {
    const t = newBackend();
    const response = await postEvent(t, { event: await chatEvent(t), headers: { "webhook-timestamp": "yesterday" } });
    expect(response).toMatchObject({ status: 401, body: { error: expect.stringContaining("webhook-timestamp") } });
    await expectNothingStored(t);
  });

  test("a correctly signed body that is not JSON is 400", async () => {
    const t = newBackend();
    const response = await postEvent(t, { body: "type=chat.message.created&content=Ship+it" });
    expect(response).toEqual({ id: response.id, status: 400, body: { error: expect.stringMatching(/not JSON/) } });
    await expectNothingStored(t);
  });

  test.each([
    ["text/plain", "text/plain"],
    ["application/x-www-form-urlencoded", "application/x-www-form-urlencoded"],
    ["no content type", null],
  ])("a correctly signed event sent as %s is 415", async (_label, contentType) => {
    const t = newBackend();
    const response = await postEvent(t, { event: await chatEvent(t), headers: { "content-type": contentType } });
    expect(response).toMatchObject({ status: 415, body: { error: expect.stringContaining("application/json") } });
    await expectNothingStored(t);
  });

  test("application/json with a charset parameter is accepted", async () => {
    const t = newBackend();
    const response = await postEvent(t, {
      event: await chatEvent(t),
      headers: { "content-type": "application/json; charset=utf-8" },
    });
    expect(response).toMatchObject({ status: 200, body: accepted });
  });

  test.each([
    ["unset", undefined],
    ["blank", "  "],
  ])("with EVENTS_WEBHOOK_SECRET %s a correctly signed delivery is 503 and nothing is stored", async (_label, value) => {
    vi.stubEnv("EVENTS_WEBHOOK_SECRET", value);
    const t = newBackend();
    const response = await postEvent(t, { event: await chatEvent(t) });
    expect(response).toMatchObject({ status: 503, body: { error: expect.stringContaining("EVENTS_WEBHOOK_SECRET") } });
    await expectNothingStored(t);
  });

  test.each(["whsec_not-base64!", "whsec_abc", "not a secret"])(
    "EVENTS_WEBHOOK_SECRET=%j (not a base64 key) is 503 naming the setting, nothing stored",
    async (secret) => {
      vi.stubEnv("EVENTS_WEBHOOK_SECRET", secret);
      const t = newBackend();
      const response = await postEvent(t, { event: await chatEvent(t) });
      expect(response).toMatchObject({ status: 503, body: { error: expect.stringContaining("EVENTS_WEBHOOK_SECRET") } });
      await expectNothingStored(t);
    },
  );

  test.each(["whsec_", "whsec_c2hvcnQga2V5"])(
    "EVENTS_WEBHOOK_SECRET=%s (an empty or short key anyone could guess) is 503, nothing stored",
    async (secret) => {
      vi.stubEnv("EVENTS_WEBHOOK_SECRET", secret);
      const t = newBackend();
      // Signed with that key where it can sign at all (an empty key cannot).
      const response = await postEvent(t, { event: await chatEvent(t), secret: secret === "whsec_" ? undefined : secret });
      expect(response).toMatchObject({ status: 503, body: { error: expect.stringMatching(/byte key/) } });
      await expectNothingStored(t);
    },
  );

  test("one unusable secret among several is 503 whichever secret signed the delivery", async () => {
    vi.stubEnv("EVENTS_WEBHOOK_SECRET", `${EVENTS_SECRET} whsec_not-base64!`);
    const t = newBackend();
    const response = await postEvent(t, { event: await chatEvent(t), secret: EVENTS_SECRET });
    expect(response).toMatchObject({ status: 503, body: { error: expect.stringContaining("secret 2 of EVENTS_WEBHOOK_SECRET") } });
    await expectNothingStored(t);
  });

  // (Surrounding spaces are not a case: the Fetch API trims header values.)
  test.each(["1772442000abc", "1772442000.9", "+1772442000"])(
    "a webhook-timestamp that is not plain Unix seconds (%j) is 401",
    async (timestamp) => {
      const t = newBackend();
      const response = await postEvent(t, { event: await chatEvent(t), headers: { "webhook-timestamp": timestamp } });
      expect(response.status).toBe(401);
      await expectNothingStored(t);
    },
  );

  test("rotation: with two secrets, deliveries signed with either are accepted and one signed with a third is 401", async () => {
    const newSecret = "whsec_amFuZ2FyIGV2ZW50cyBuZXcga2V5IDAy";
    const oldSecret = "whsec_amFuZ2FyIGV2ZW50cyBvbGQga2V5IDAx";
    vi.stubEnv("EVENTS_WEBHOOK_SECRET", ` ${newSecret}  ${oldSecret}\n`);
    const t = newBackend();
    const sent = await chatEvent(t);
    expect(await postEvent(t, { event: sent, secret: newSecret })).toMatchObject({ status: 200, body: accepted });
    expect(await postEvent(t, { event: sent, secret: oldSecret })).toMatchObject({ status: 200, body: accepted });
    expect(await postEvent(t, { event: sent, secret: EVENTS_SECRET })).toMatchObject({ status: 401 });
    expect((await stored(t)).deliveries).toHaveLength(2);
  });

  test("several signatures in webhook-signature: one matching v1 is enough; a matching signature under another version is not", async () => {
    const t = newBackend();
    const sent = await chatEvent(t);
    const id = "msg_2qJ7xRk9LmSeveralSigs";
    const at = EVENTS_NOW.getTime() / 1000;
    const good = await signStandardWebhook(EVENTS_SECRET, id, at, utf8.encode(JSON.stringify(sent)));
    const bad = await signStandardWebhook("whsec_c29tZW9uZSBlbHNlIHMga2V5IDAwMDM=", id, at, utf8.encode(JSON.stringify(sent)));
    const several = await postEvent(t, { event: sent, id, headers: { "webhook-signature": `${bad} ${good}` } });
    expect(several).toMatchObject({ status: 200, body: accepted });
    const otherVersion = await postEvent(t, {
      event: sent,
      headers: { "webhook-signature": `${bad} v2,${good.slice("v1,".length)}` },
    });
    expect(otherVersion).toMatchObject({ status: 401 });
  });

  test("a body over WEBHOOK_MAX_BODY_BYTES is 413; exactly at the limit is accepted", async () => {
    vi.stubEnv("WEBHOOK_MAX_BODY_BYTES", "1024");
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const ofSize = (bytes: number) => {
      const shape = (content: string) => JSON.stringify(messageCreated(sessionId, { role: "user", content }));
      const body = shape("Ship it".padEnd(bytes - utf8.encode(shape("")).length, "."));
      expect(utf8.encode(body).length).toBe(bytes);
      return body;
    };
    const over = await postEvent(t, { body: ofSize(1025) });
    expect(over).toMatchObject({ status: 413, body: { error: expect.stringContaining("WEBHOOK_MAX_BODY_BYTES") } });
    await expectNothingStored(t);
    const atLimit = await postEvent(t, { body: ofSize(1024) });
    expect(atLimit).toMatchObject({ status: 200, body: accepted });
    expect((await stored(t)).deliveries).toMatchObject([{ bodyBytes: 1024 }]);
  });
});
