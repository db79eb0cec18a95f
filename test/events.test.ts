import { beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../convex/_generated/api";
import type { Id } from "../convex/_generated/dataModel";
import { signStandardWebhook, signingKeys, verifyStandardWebhook } from "../src/sources/events/signature";
import { STANDARD_EVENTS } from "../src/sources/events/standardEvents";
import { newBackend, type Backend } from "./helpers/backend";
import { asService } from "./helpers/callers";
import { EVENTS_SECRET, event, eventsRequest, linkAdded, messageCreated, postEvent, statusChanged, type EventEnvelope } from "./helpers/senders/events";
import { domainTables } from "./helpers/assertions";
import { newSession, newWorkOrder, statusHistory, messagesOf, orderOf } from "./helpers/records";
import { withFakeClock, settle } from "./helpers/clock";
import { deliveryRow, expectNothingStored, keptBodies, keptBodiesOf, stored, storedBody } from "./helpers/inbox";

/*
 * POST /webhooks/events (docs/contract.md#3-webhook-routes, docs/contract.md#standard-webhooks-webhooksevents-body--type-timestamp-data-): Standard Webhooks
 * deliveries from chat platforms and workflow runners, signed as the scheme's
 * published vector is. What the sender sees (status and JSON), what a user
 * sees (work orders, messages, status history) and what the inbox kept.
 */

const NOW = new Date("2026-03-02T09:00:00.000Z");

withFakeClock();
beforeEach(() => {
  vi.setSystemTime(NOW);
  vi.stubEnv("EVENTS_WEBHOOK_SECRET", EVENTS_SECRET);
});

const MINUTE_S = 60;
const utf8 = new TextEncoder();

/** A work order the runner has picked up: submitted, then accepted by Jangar's server. */
async function acceptedOrder(t: Backend) {
  const sessionId = await newSession(t, "alice");
  const workOrderId = await newWorkOrder(t, sessionId);
  await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: "accepted" });
  return workOrderId;
}

const accepted = { status: "accepted", delivery: expect.any(String) };

describe("the Standard Webhooks published test vector", () => {
  // https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
  const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
  const timestamp = 1614265330;
  const body = '{"test": 2432232314}';
  const signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
  const headers = { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": signature };

  const keys = () => {
    const parsed = signingKeys(secret, "EVENTS_WEBHOOK_SECRET");
    if (!parsed.ok) throw new Error(parsed.message);
    return parsed.value;
  };

  test("the signer gives the vector's published signature, and the verifier accepts it at its time", async () => {
    expect(await signStandardWebhook(secret, id, timestamp, utf8.encode(body))).toBe(signature);
    expect(await verifyStandardWebhook(keys(), { id, timestamp: String(timestamp), signature }, utf8.encode(body), timestamp)).toEqual({
      ok: true,
      value: undefined,
    });
  });

  test.each([
    ["another body", { body: '{"test": 2432232315}' }, /No signature in webhook-signature matches/],
    ["another id", { id: "msg_p5jXN8AQM9LWM0D4loKWxJel" }, /No signature in webhook-signature matches/],
    ["another timestamp", { timestamp: String(timestamp + 1) }, /No signature in webhook-signature matches/],
    ["the signature under version v2", { signature: signature.replace("v1,", "v2,") }, /No signature in webhook-signature matches/],
    ["a timestamp six minutes old", { now: timestamp + 6 * MINUTE_S }, /webhook-timestamp must be within five minutes of now; it is 360 seconds old/],
    ["a timestamp six minutes ahead", { now: timestamp - 6 * MINUTE_S }, /webhook-timestamp must be within five minutes of now; it is 360 seconds ahead/],
    ["a timestamp in milliseconds", { timestamp: `${timestamp}000` }, /webhook-timestamp must be a Unix time in seconds/],
    ["a timestamp that is not a number", { timestamp: "Thu, 25 Feb 2021" }, /webhook-timestamp must be a Unix time in seconds/],
  ])("the vector with %s does not verify, and the failure says which check failed", async (_label, change, message) => {
    const changed = { id, timestamp: String(timestamp), signature, body, now: timestamp, ...change };
    const verified = await verifyStandardWebhook(keys(), changed, utf8.encode(changed.body), changed.now);
    expect(verified).toEqual({ ok: false, message: expect.stringMatching(message) });
  });

  test("the vector's signature among others, and with a second key configured (rotation), verifies", async () => {
    const rotated = signingKeys(`whsec_c29tZW9uZSBlbHNlIHMga2V5IDAwMDM= ${secret}`, "EVENTS_WEBHOOK_SECRET");
    expect(rotated.ok).toBe(true);
    const several = { id, timestamp: String(timestamp), signature: `v1,bm90IGl0 ${signature} v1a,xyz` };
    expect(await verifyStandardWebhook(rotated.ok ? rotated.value : [], several, utf8.encode(body), timestamp)).toMatchObject({ ok: true });
  });

  test("signing with a key that is not whsec_<base64> is a TypeError, not a signature", async () => {
    await expect(signStandardWebhook("whsec_not-base64!", id, timestamp, utf8.encode(body))).rejects.toThrow(TypeError);
  });

  test("the endpoint accepts the vector's signature, then refuses its shape (400, not 401); six minutes later it is 401", async () => {
    vi.stubEnv("EVENTS_WEBHOOK_SECRET", secret);
    vi.setSystemTime(timestamp * 1000);
    const t = newBackend();
    const post = async () => {
      const response = await t.fetch("/webhooks/events", {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body,
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };

    // Verified: the refusal is about the body having no `type`, not about the signature.
    const inWindow = await post();
    expect(inWindow).toEqual({
      status: 400,
      body: { error: expect.stringMatching(/not a \{ type, timestamp, data \} event: type: /) },
    });

    vi.setSystemTime((timestamp + 6 * MINUTE_S) * 1000);
    const late = await post();
    expect(late).toEqual({ status: 401, body: { error: expect.stringContaining("webhook-timestamp") } });
    await expectNothingStored(t);
  });
});

describe("a workflow runner's events for one work order", () => {
  test("in order, accepted -> running -> succeeded are recorded with source events, the reasons sent and the delivery as actor", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const workOrderId = await newWorkOrder(t, sessionId);
    const steps = [
      ["accepted", "Picked up by runner jangar-runner-7"],
      ["running", "Workflow codex-implement started"],
      ["succeeded", "All checks passed"],
    ] as const;
    const ids: string[] = [];
    for (const [status, reason] of steps) {
      vi.advanceTimersByTime(1000);
      const response = await postEvent(t, { event: statusChanged(workOrderId, status, reason) });
      expect(response).toMatchObject({ status: 200, body: accepted });
      ids.push(response.id);
      await settle(t);
      expect(await deliveryRow(t, response.body.delivery)).toMatchObject({
        source: "events",
        event: "work_order.status.changed",
        status: "processed",
        touchedCount: 1,
      });
    }

    expect((await orderOf(t, workOrderId)).status).toBe("succeeded");
    expect(await statusHistory(t, workOrderId)).toMatchObject([
      { from: null, to: "submitted", source: "api" },
      { from: "submitted", to: "accepted", source: "events", reason: steps[0][1], actor: `events:${ids[0]}` },
      { from: "accepted", to: "running", source: "events", reason: steps[1][1], actor: `events:${ids[1]}` },
      { from: "running", to: "succeeded", source: "events", reason: steps[2][1], actor: `events:${ids[2]}` },
    ]);
  });

  test("out of order and each sent twice (same webhook-id, then a retry under a new id): succeeded, each link once, no backward move, the late running ignored", async () => {
    const t = newBackend();
    const workOrderId = await acceptedOrder(t);
    const prUrl = "https://github.com/Acme/Widgets/pull/42";
    const sha = "9F2C4E1B7A3D5C6E8F0A1B2C3D4E5F60718293A4";
    // The order the runner's events arrive in: the end first, the start last.
    const arrivals: EventEnvelope[] = [
      statusChanged(workOrderId, "succeeded", "All checks passed"),
      linkAdded(workOrderId, "pr", prUrl),
      linkAdded(workOrderId, "commit", sha),
      statusChanged(workOrderId, "running", "Workflow codex-implement started"),
    ];

    const outcomes = [];
    for (const sent of arrivals) {
      vi.advanceTimersByTime(1000);
      const first = await postEvent(t, { event: sent });
      const redelivered = await postEvent(t, { event: sent, id: first.id });
      await settle(t);
      const retried = await postEvent(t, { event: sent });
      await settle(t);
      expect(first).toMatchObject({ status: 200, body: accepted });
      expect(redelivered).toEqual({
        id: first.id,
        status: 200,
        body: { status: "duplicate", delivery: first.body.delivery },
      });
      expect(retried).toMatchObject({ status: 200, body: accepted });
      expect(retried.body.delivery).not.toBe(first.body.delivery);
      outcomes.push([await deliveryRow(t, first.body.delivery), await deliveryRow(t, retried.body.delivery)]);
    }

    const order = await orderOf(t, workOrderId);
    expect(order.status).toBe("succeeded");
    expect(order.links).toEqual([
      { kind: "pr", value: "https://github.com/acme/widgets/pull/42" },
      { kind: "commit", value: sha.toLowerCase() },
    ]);
    const history = await statusHistory(t, workOrderId);
    expect(history.map(({ from, to, source }) => ({ from, to, source }))).toEqual([
      { from: null, to: "submitted", source: "api" },
      { from: "submitted", to: "accepted", source: "api" },
      { from: "accepted", to: "succeeded", source: "events" },
    ]);

    const [succeeded, pr, commit, running] = outcomes;
    // The first copy of each effect did it; the retry under a new id found it done.
    for (const [first, retry] of [succeeded, pr, commit]) {
      expect(first).toMatchObject({ status: "processed", touchedCount: 1 });
      expect(retry).toMatchObject({ status: "processed", touchedCount: 0 });
      expect(retry.ignoredReason).toBeUndefined();
    }
    // A status the machine refuses is a recorded, explained outcome, not a failure to retry.
    for (const late of running) {
      expect(late).toMatchObject({
        status: "ignored",
        attempts: 1,
        touchedCount: 0,
        ignoredReason: expect.stringMatching(/status running not applied: .*already succeeded.*cannot become running/),
        skipped: [expect.stringContaining(workOrderId)],
      });
      expect(late.error).toBeUndefined();
    }
    const { deliveries } = await stored(t);
    expect(deliveries).toHaveLength(8);
    expect((await keptBodiesOf(t)).map((body) => body.deliveryId).sort()).toEqual(deliveries.map((row) => row._id).sort());
  });

  test("a work_order event for an order that does not exist is ignored with a reason naming it, and writes nothing", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const gone = await newWorkOrder(t, sessionId);
    await t.run(async (ctx) => {
      await ctx.db.delete("work_orders", gone);
    });
    const before = await domainTables(t);
    for (const workOrderId of [gone, "wo-2026-0042"]) {
      for (const sent of [
        statusChanged(workOrderId, "running"),
        linkAdded(workOrderId, "pr", "https://github.com/acme/widgets/pull/42"),
      ]) {
        const response = await postEvent(t, { event: sent });
        expect(response).toMatchObject({ status: 200, body: accepted });
        await settle(t);
        expect(await deliveryRow(t, response.body.delivery)).toMatchObject({
          status: "ignored",
          ignoredReason: `No work order ${workOrderId}.`,
          touchedCount: 0,
        });
      }
    }
    expect(await domainTables(t)).toEqual(before);
  });
});

describe("chat.message.created", () => {
  test("appends the message (role, content, metadata kept) once, however often it is delivered or replayed", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const sessionBefore = await asService(t).query(api.chatSessions.get, { sessionId });
    vi.advanceTimersByTime(60_000);
    const metadata = { platform: "discord", channel: "1203948576", author: { id: "88", name: "runner-bot" }, attachments: [] };
    const sent = messageCreated(sessionId, {
      role: "assistant",
      content: "Opened https://github.com/acme/widgets/pull/42 — ready for review ✅",
      metadata,
    });

    const first = await postEvent(t, { event: sent });
    expect(first).toMatchObject({ status: 200, body: accepted });
    const beforeProcessing = await postEvent(t, { event: sent, id: first.id });
    await settle(t);
    const afterProcessing = await postEvent(t, { event: sent, id: first.id, svixHeaders: true });
    await settle(t);
    for (const again of [beforeProcessing, afterProcessing]) {
      expect(again).toMatchObject({ status: 200, body: { status: "duplicate", delivery: first.body.delivery } });
    }

    const expected = [
      {
        sessionId,
        role: "assistant",
        content: "Opened https://github.com/acme/widgets/pull/42 — ready for review ✅",
        metadata,
        createdAt: NOW.getTime() + 60_000,
      },
    ];
    expect(await messagesOf(t, sessionId)).toMatchObject(expected);
    expect(await asService(t).query(api.chatSessions.get, { sessionId })).toMatchObject({
      updatedAt: NOW.getTime() + 60_000,
      createdAt: sessionBefore!.createdAt,
    });
    expect(await deliveryRow(t, first.body.delivery)).toMatchObject({ status: "processed", touchedCount: 1 });

    const deliveryId = first.body.delivery as Id<"webhook_deliveries">;
    expect(await t.mutation(internal.ingest.replay, { deliveryId })).toEqual({ deliveryId, previousStatus: "processed" });
    await settle(t);
    expect(await messagesOf(t, sessionId)).toMatchObject(expected);
    expect(await messagesOf(t, sessionId)).toHaveLength(1);
    expect(await deliveryRow(t, deliveryId)).toMatchObject({ status: "processed", attempts: 1, touchedCount: 0 });
    const { deliveries } = await stored(t);
    expect(deliveries).toHaveLength(1);
    expect(await keptBodies(t)).toBe(1);
  });

  test("one message id reaching a second session (the same webhook-id with another body, a conflict) is appended there too, once in each session", async () => {
    const t = newBackend();
    const first = await newSession(t, "alice", "Staging");
    const second = await newSession(t, "alice", "Production");
    const message = { role: "user", content: "Deploy widgets 4.2 when the checks pass." };

    const toFirst = await postEvent(t, { event: messageCreated(first, message) });
    const toSecond = await postEvent(t, { event: messageCreated(second, message), id: toFirst.id });
    expect(toSecond).toMatchObject({ status: 200, body: accepted });
    expect(toSecond.body.delivery).not.toBe(toFirst.body.delivery);
    await settle(t);

    for (const sessionId of [first, second]) {
      expect(await messagesOf(t, sessionId)).toMatchObject([{ sessionId, role: "user", content: message.content }]);
    }
    expect(await deliveryRow(t, toSecond.body.delivery)).toMatchObject({ status: "processed", touchedCount: 1 });
    expect((await t.query(internal.ingest.inboxStatus, {})).conflicts).toContainEqual({ source: "events", count: 1 });

    // Each delivery replayed appends nothing more, in either session.
    for (const delivery of [toFirst.body.delivery, toSecond.body.delivery]) {
      await t.mutation(internal.ingest.replay, { deliveryId: delivery as Id<"webhook_deliveries"> });
    }
    await settle(t);
    expect(await messagesOf(t, first)).toHaveLength(1);
    expect(await messagesOf(t, second)).toHaveLength(1);
  });

  test("an origin recorded before origins named their session still keeps its message out of that session; removed, out of every session", async () => {
    const t = newBackend();
    const kept = await newSession(t, "alice", "Kept");
    const other = await newSession(t, "alice", "Other");
    const [keptId, removedId] = ["msg_2qJ7xRk9LmOLDKEPT", "msg_2qJ7xRk9LmOLDGONE"];
    await t.run(async (ctx) => {
      const messageId = await ctx.db.insert("chat_messages", { sessionId: kept, role: "user", content: "Kept.", createdAt: Date.now() });
      await ctx.db.insert("chat_message_origins", { externalId: `events:${keptId}`, messageId });
      const removed = await ctx.db.insert("chat_messages", { sessionId: kept, role: "user", content: "Removed.", createdAt: Date.now() });
      await ctx.db.delete("chat_messages", removed);
      await ctx.db.insert("chat_message_origins", { externalId: `events:${removedId}`, messageId: removed, removedAt: Date.now() });
    });

    for (const [sessionId, id] of [[kept, keptId], [other, keptId], [other, removedId]] as const) {
      await postEvent(t, { event: messageCreated(sessionId, { role: "user", content: `Again, to ${sessionId}.` }), id });
    }
    await settle(t);
    expect((await messagesOf(t, kept)).map((message) => message.content)).toEqual(["Kept."]);
    expect((await messagesOf(t, other)).map((message) => message.content)).toEqual([`Again, to ${other}.`]);
  });

  test.each([
    ["well-formed but missing", "deleted"],
    ["the id of a work order", "workOrder"],
    ["malformed", "malformed"],
  ] as const)("a session id that is %s: ignored with a reason naming it, nothing written", async (_label, kind) => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const workOrderId = await newWorkOrder(t, sessionId);
    const deleted = await newSession(t, "alice", "Gone");
    await t.run(async (ctx) => {
      await ctx.db.delete("chat_sessions", deleted);
    });
    const target = { deleted, workOrder: workOrderId, malformed: "session-0042" }[kind];
    const before = await domainTables(t);

    const response = await postEvent(t, { event: messageCreated(target, { role: "user", content: "Is it done?" }) });
    expect(response).toMatchObject({ status: 200, body: accepted });
    await settle(t);
    expect(await deliveryRow(t, response.body.delivery)).toMatchObject({
      status: "ignored",
      ignoredReason: `No chat session ${target}.`,
      skipped: [`No chat session ${target}.`],
    });
    expect(await domainTables(t)).toEqual(before);
  });
});

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
    ["missing data", { type: "work_order.status.changed", timestamp: NOW.toISOString() }, /event: data: /],
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
    const timestamp = NOW.getTime() / 1000 + offset;
    const response = await postEvent(t, { event: await chatEvent(t), timestamp });
    expect(response).toMatchObject({ status: 401, body: { error: expect.stringContaining("webhook-timestamp") } });
    await expectNothingStored(t);
  });

  test("timestamps exactly five minutes old or ahead are inside the window", async () => {
    const t = newBackend();
    const sent = await chatEvent(t);
    for (const offset of [-5 * MINUTE_S, 5 * MINUTE_S]) {
      const response = await postEvent(t, { event: sent, timestamp: NOW.getTime() / 1000 + offset });
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
    const at = NOW.getTime() / 1000;
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
