import { describe, expect, test, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { newBackend } from "../helpers/backend";
import { asService } from "../helpers/callers";
import { accepted, EVENTS_NOW, messageCreated, onEventsEndpoint, postEvent } from "../helpers/senders/events";
import { domainTables } from "../helpers/assertions";
import { newSession, newWorkOrder, messagesOf } from "../helpers/records";
import { settle } from "../helpers/clock";
import { deliveryRow, keptBodies, stored } from "../helpers/inbox/deliveries";

/*
 * POST /webhooks/events (docs/contract.md#standard-webhooks-webhooksevents-body--type-timestamp-data-):
 * a chat platform's messages, appended once to the session they name.
 */

onEventsEndpoint();

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
        createdAt: EVENTS_NOW.getTime() + 60_000,
      },
    ];
    expect(await messagesOf(t, sessionId)).toMatchObject(expected);
    expect(await asService(t).query(api.chatSessions.get, { sessionId })).toMatchObject({
      updatedAt: EVENTS_NOW.getTime() + 60_000,
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
