/**
 * The values callers and senders store are refused, naming the field, before
 * Convex would refuse them (Convex's production limits: nesting, width, size,
 * well-formed strings). convexLimits.test.ts holds the limits themselves.
 */
import { describe, expect, test } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { newBackend, type Backend } from "../helpers/backend";
import { asService, asUser } from "../helpers/callers";
import { messageCreated, postEvent } from "../helpers/senders/events";
import { expectConvexError, expectConvexLimit, expectNothingWritten, snapshotTables } from "../helpers/assertions";
import { nestedArraysJson, nestedObjects, objectOfFields } from "../helpers/convexValues";
import { newSession, newWorkOrder } from "../helpers/records";
import { checkStorableField } from "../../src/storable";
import { withEverySenderConfigured } from "../helpers/senders/all";
import { deliveryRow } from "../helpers/inbox/deliveries";
import { settle } from "../helpers/clock";

withEverySenderConfigured();

describe("values callers store: nested at most 15 levels below their document", () => {
  type Ids = { sessionId: Id<"chat_sessions">; workOrderId: Id<"work_orders"> };
  type Store = (t: Backend, ids: Ids, value: unknown) => Promise<unknown>;
  /** The value the last store kept: the newest message's metadata, or the newest arg `deep`'s value. */
  type Stored = (t: Backend) => Promise<unknown>;
  const newestMetadata: Stored = async (t) => await t.run(async (ctx) => (await ctx.db.query("chat_messages").order("desc").first())?.metadata);
  const newestDeepArg: Stored = async (t) =>
    await t.run(async (ctx) => (await ctx.db.query("work_order_args").order("desc").filter((q) => q.eq(q.field("name"), "deep")).first())?.value);
  const stores: [string, RegExp, Store, Stored][] = [
    [
      "chatMessages:append metadata",
      /^metadata/,
      (t, { sessionId }, metadata) => asUser(t, "alice").mutation(api.chatMessages.append, { sessionId, role: "user", content: "hi", metadata }),
      newestMetadata,
    ],
    [
      "workOrders:create args",
      /^arg deep/,
      (t, { sessionId }, value) =>
        asUser(t, "alice").mutation(api.workOrders.create, { sessionId, workflowType: "codex", prompt: "p", title: "t", args: [{ name: "deep", value }] }),
      newestDeepArg,
    ],
    [
      "workOrderArgs:upsert",
      /^arg deep/,
      (t, { workOrderId }, value) => asService(t).mutation(api.workOrderArgs.upsert, { workOrderId, name: "deep", value }),
      newestDeepArg,
    ],
  ];

  async function setUp() {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const workOrderId = await newWorkOrder(t, sessionId);
    return { t, ids: { sessionId, workOrderId } };
  }

  test.each(stores)("%s: a value nested 15 levels, with 1,024 fields and 8,192 elements, is stored", async (_store, _field, store, stored) => {
    const { t, ids } = await setUp();
    await store(t, ids, nestedObjects(15));
    expect(await stored(t)).toEqual(nestedObjects(15));
    const wide = { fields: objectOfFields(1024), list: Array(8192).fill(0) };
    await store(t, ids, wide);
    expect(await stored(t)).toEqual(wide);
  });

  test.each(stores)("%s: nested 16 levels is INVALID_ARGUMENT naming the field and the limit, nothing written", async (_store, field, store) => {
    const { t, ids } = await setUp();
    await expectNothingWritten(t, async () => {
      const error = await expectConvexError(store(t, ids, nestedObjects(16)), "INVALID_ARGUMENT");
      expect(error.message).toMatch(field);
      expect(error.message).toMatch(/nests more than 15 levels/);
    });
  });

  // Arguments are Convex values too: Convex refuses a wider one before any code of this service runs.
  test.each(stores)("%s: 1,025 fields or 8,193 elements is refused by Convex at the call, nothing written", async (_store, _field, store) => {
    const { t, ids } = await setUp();
    await expectNothingWritten(t, async () => {
      await expectConvexLimit(store(t, ids, { a: [objectOfFields(1025)] }), /Object has too many fields \(1025 > maximum number 1024\)/);
      await expectConvexLimit(store(t, ids, { a: Array(8193).fill(0) }), /Array length is too long \(8193 > maximum length 8192\)/);
    });
  });
});

describe("values senders store: a message whose metadata Convex could not store is skipped, with the reason", () => {
  const cases: [string, string, RegExp][] = [
    ["nested 16 levels", JSON.stringify(nestedObjects(16)), /metadata nests more than 15 levels/],
    ["nested 200,000 levels", nestedArraysJson(200_000), /metadata nests more than 15 levels/],
    ["with an object of 1,025 fields", JSON.stringify({ a: [objectOfFields(1025)] }), /metadata\.a\[0\] has 1025 fields; an object holds at most 1024/],
    ["with an array of 8,193 elements", JSON.stringify({ list: Array(8193).fill(0) }), /metadata\.list has 8193 elements; an array holds at most 8192/],
    ["with a $-prefixed field name", JSON.stringify({ ok: { $type: "x" } }), /metadata\.ok has a field name Convex cannot store, "\$type"/],
    ["over 64 KiB", JSON.stringify({ blob: "x".repeat(64 * 1024) }), /metadata is 655\d\d bytes as JSON; the limit is 65536/],
    // JSON's escape of half a surrogate pair: valid UTF-8 on the wire, a string Convex cannot hold once parsed.
    ["with half a surrogate pair in a value", '{"author": {"names": ["ok", "\\ud800"]}}', /metadata\.author\.names\[1\] is not well-formed Unicode/],
    ["with half a surrogate pair as the whole value", '"\\udfff"', /^Message events:.* not appended: metadata is not well-formed Unicode/],
  ];

  test.each(cases)("metadata %s: accepted, then ignored with the reason, no message", async (_case, metadata, reason) => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const before = await snapshotTables(t);
    const envelope = JSON.stringify(messageCreated(sessionId, { role: "user", content: "hi", metadata: "METADATA" }));
    const response = await postEvent(t, { body: envelope.replace('"METADATA"', metadata) });
    expect(response).toMatchObject({ status: 200, body: { status: "accepted" } });
    await settle(t);
    const delivery = await deliveryRow(t, response.body.delivery);
    expect(delivery).toMatchObject({ status: "ignored", attempts: 1 });
    expect(delivery.ignoredReason).toMatch(reason);
    expect((await snapshotTables(t)).chat_messages).toEqual(before.chat_messages);
  });

  test("metadata nested 15 levels is stored with the message", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const response = await postEvent(t, { event: messageCreated(sessionId, { role: "user", content: "hi", metadata: nestedObjects(15) }) });
    expect(response.status).toBe(200);
    await settle(t);
    expect(await deliveryRow(t, response.body.delivery)).toMatchObject({ status: "processed" });
    const [message] = (await snapshotTables(t)).chat_messages;
    expect(message).toMatchObject({ content: "hi", metadata: nestedObjects(15) });
  });
});

describe("the storable-value check refuses half a surrogate pair, naming where it is", () => {
  test.each([
    [{ note: "\ud800" }, /^metadata\.note is not well-formed Unicode/],
    [["ok", { deep: ["\udc00 tail"] }], /^metadata\[1\]\.deep\[0\] is not well-formed Unicode/],
    ["\ud83d", /^metadata is not well-formed Unicode/],
  ])("%j is refused", (value, message) => {
    const checked = checkStorableField("metadata", value, 65536);
    expect(checked).toEqual({ ok: false, message: expect.stringMatching(message) });
  });

  test("a whole surrogate pair (an emoji) is stored as it is", () => {
    expect(checkStorableField("metadata", { note: "\ud83d\ude00" }, 65536)).toEqual({ ok: true, value: { note: "\ud83d\ude00" } });
  });
});
