/**
 * Convex's production limits: the test backend holds every test to the ones
 * convex-test leaves out (document size, nesting and width, function
 * arguments and results, HTTP bodies), and the values callers and senders
 * store are refused, naming the field, before Convex would refuse them.
 */
import { actionGeneric, makeFunctionReference, mutationGeneric, queryGeneric } from "convex/server";
import { v } from "convex/values";
import { describe, expect, test, vi } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { newBackend, type Backend } from "../helpers/backend";
import { asService, asUser } from "../helpers/callers";
import { messageCreated, postEvent } from "../helpers/senders/events";
import { githubRequest } from "../helpers/senders/github";
import { expectConvexError, expectNothingWritten, snapshotTables } from "../helpers/assertions";
import { newSession, newWorkOrder } from "../helpers/records";
import { checkStorableField } from "../../src/storable";
import { withEverySenderConfigured } from "../helpers/senders/all";
import { deliveryRow } from "../helpers/inbox";
import { settle } from "../helpers/clock";

const MiB = 1024 * 1024;

/** A value `levels` objects deep (Convex's nesting: `{ in: 1 }` is 1). */
function nestedObjects(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i += 1) value = { in: value };
  return value;
}

/** A value `levels` arrays deep, built as JSON text so that no JavaScript recursion is needed to send it. */
function nestedArraysJson(levels: number): string {
  return `${"[".repeat(levels)}"bottom"${"]".repeat(levels)}`;
}

function objectOfFields(fields: number): Record<string, number> {
  return Object.fromEntries(Array.from({ length: fields }, (_, i) => [`f${i}`, i]));
}

/** Awaits a call that Convex itself refuses (not one of this service's errors), and returns the message. */
async function expectConvexLimit(call: Promise<unknown>, limit: RegExp): Promise<string> {
  const error: unknown = await call.then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(error, "expected Convex to refuse the call").toBeInstanceOf(Error);
  expect((error as { data?: unknown }).data).toBeUndefined();
  expect(String(error)).toMatch(limit);
  expect(String(error)).toMatch(/This is a Convex limit/);
  return String(error);
}

withEverySenderConfigured();

describe("the test backend refuses what Convex refuses", () => {
  async function aMessage(t: Backend) {
    const sessionId = await newSession(t, "alice");
    return await t.run(async (ctx) => await ctx.db.insert("chat_messages", { sessionId, role: "user", content: "hi", createdAt: 0 }));
  }

  test("a document over 1 MiB, as Convex measures it, is not written; one just under is", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    // Convex's size of { _id, _creationTime, sessionId, role, content, createdAt } is about 150 bytes besides the content.
    const fits = "x".repeat(MiB - 200);
    await t.run(async (ctx) => {
      await ctx.db.insert("chat_messages", { sessionId, role: "user", content: fits, createdAt: 0 });
    });
    await expectNothingWritten(t, async () => {
      await expectConvexLimit(
        t.run(async (ctx) => {
          await ctx.db.insert("chat_messages", { sessionId, role: "user", content: `${fits}${"x".repeat(100)}`, createdAt: 0 });
        }),
        /A document of chat_messages is too large \(10486\d\d bytes > maximum size 1048576 bytes\)/,
      );
    });
  });

  test("a patch or a replace that makes a document over 1 MiB is not written", async () => {
    const t = newBackend();
    const messageId = await aMessage(t);
    await t.run(async (ctx) => {
      await ctx.db.patch("chat_messages", messageId, { content: "x".repeat(MiB / 2) });
    });
    await expectNothingWritten(t, async () => {
      await expectConvexLimit(
        t.run(async (ctx) => {
          await ctx.db.patch("chat_messages", messageId, { metadata: "y".repeat(MiB / 2) });
        }),
        /too large/,
      );
      const message = await t.run(async (ctx) => (await ctx.db.get("chat_messages", messageId))!);
      const { _id, _creationTime, ...fields } = message;
      await expectConvexLimit(
        t.run(async (ctx) => {
          await ctx.db.replace("chat_messages", messageId, { ...fields, content: "z".repeat(MiB + 1) });
        }),
        /too large/,
      );
    });
  });

  test("a document nested 17 levels deep (the document is one) is not written; 16 is", async () => {
    const t = newBackend();
    const messageId = await aMessage(t);
    await t.run(async (ctx) => {
      await ctx.db.patch("chat_messages", messageId, { metadata: nestedObjects(15) });
    });
    await expectNothingWritten(t, async () => {
      await expectConvexLimit(
        t.run(async (ctx) => {
          await ctx.db.patch("chat_messages", messageId, { metadata: nestedObjects(16) });
        }),
        /too nested \(nested 17 levels deep > maximum nesting 16\)/,
      );
    });
  });

  test("an object of 1,025 fields or an array of 8,193 elements anywhere in a document is not written", async () => {
    const t = newBackend();
    const messageId = await aMessage(t);
    await t.run(async (ctx) => {
      await ctx.db.patch("chat_messages", messageId, { metadata: { fields: objectOfFields(1024), list: Array(8192).fill(0) } });
    });
    await expectNothingWritten(t, async () => {
      await expectConvexLimit(
        t.run(async (ctx) => {
          await ctx.db.patch("chat_messages", messageId, { metadata: { deep: { fields: objectOfFields(1025) } } });
        }),
        /Object has too many fields \(1025 > maximum number 1024\)/,
      );
      await expectConvexLimit(
        t.run(async (ctx) => {
          await ctx.db.patch("chat_messages", messageId, { metadata: [[Array(8193).fill(0)]] });
        }),
        /Array length is too long \(8193 > maximum length 8192\)/,
      );
    });
  });

  test("a string holding half of a surrogate pair is not written, as a field or inside one, nor passed to a function", async () => {
    const t = newBackend();
    const messageId = await aMessage(t);
    const sessionId = await newSession(t, "bob");
    await expectNothingWritten(t, async () => {
      await expectConvexLimit(
        t.run(async (ctx) => {
          await ctx.db.patch("chat_messages", messageId, { metadata: { note: "\ud800" } });
        }),
        /A document of chat_messages: String .* is not valid Unicode/,
      );
      await expectConvexLimit(
        t.run(async (ctx) => {
          await ctx.db.patch("chat_messages", messageId, { content: "tail \udc00" });
        }),
        /A document of chat_messages: String .* is not valid Unicode/,
      );
      await expectConvexLimit(
        asUser(t, "bob").mutation(api.chatMessages.append, { sessionId, role: "user", content: "hi", metadata: { note: "\ud83d" } }),
        /The arguments of chatMessages:append: String .* is not valid Unicode/,
      );
    });
    // A whole pair is a character like any other.
    await t.run(async (ctx) => {
      await ctx.db.patch("chat_messages", messageId, { metadata: { note: "\ud83d\ude00" } });
    });
  });

  test("arguments over 16 MiB, or nested over 64 levels, are refused before the function runs", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    await expectNothingWritten(t, async () => {
      await expectConvexLimit(
        asUser(t, "alice").mutation(api.chatMessages.append, { sessionId, role: "user", content: "x".repeat(16 * MiB) }),
        /The arguments of chatMessages:append: too large/,
      );
      await expectConvexLimit(
        asUser(t, "alice").mutation(api.chatMessages.append, { sessionId, role: "user", content: "hi", metadata: nestedObjects(100) }),
        /The arguments of chatMessages:append: too nested \(nested 102 levels deep > maximum nesting 64\)/,
      );
    });
  });

  // Functions only these tests call, to reach what no function of the service returns or sends.
  const probe = {
    text: queryGeneric({ args: { bytes: v.number() }, handler: async (_ctx, { bytes }) => "x".repeat(bytes) }),
    list: queryGeneric({ args: { elements: v.number() }, handler: async (_ctx, { elements }) => Array(elements).fill(0) }),
    sink: mutationGeneric({ args: { blob: v.string() }, handler: async () => null }),
    send: actionGeneric({
      args: { bytes: v.number() },
      handler: async (ctx, { bytes }) => {
        await ctx.runMutation(makeFunctionReference<"mutation">("limitsProbe:sink"), { blob: "x".repeat(bytes) });
        return null;
      },
    }),
  };
  const probeBackend = () => newBackend(true, { "../../convex/limitsProbe.ts": async () => probe });

  test("a return value over 16 MiB or wider than Convex allows fails the call", async () => {
    const t = probeBackend();
    expect(await t.query(makeFunctionReference<"query">("limitsProbe:list"), { elements: 8192 })).toHaveLength(8192);
    await expectConvexLimit(
      t.query(makeFunctionReference<"query">("limitsProbe:text"), { bytes: 16 * MiB }),
      /The return value of limitsProbe:text: too large/,
    );
    await expectConvexLimit(
      t.query(makeFunctionReference<"query">("limitsProbe:list"), { elements: 8193 }),
      /The return value of limitsProbe:list: Array length is too long/,
    );
  });

  test("a call an action makes is held to the same limits", async () => {
    const t = probeBackend();
    await t.action(makeFunctionReference<"action">("limitsProbe:send"), { bytes: MiB });
    await expectConvexLimit(
      t.action(makeFunctionReference<"action">("limitsProbe:send"), { bytes: 16 * MiB }),
      /The arguments of limitsProbe:sink: too large/,
    );
  });

  test("an HTTP request body over 20 MiB is answered 413 before any action runs", async () => {
    vi.stubEnv("WEBHOOK_MAX_BODY_BYTES", String(64 * MiB));
    const t = newBackend();
    const ping = { zen: "Keep it logically awesome.", hook_id: 292430182, padding: "" };
    const fits = await githubRequest({ event: "ping", payload: { ...ping, padding: "p".repeat(20 * MiB - 200) } });
    expect((await t.fetch("/webhooks/github", fits)).status).toBe(200);
    await settle(t);
    const before = await snapshotTables(t);
    const tooLarge = await githubRequest({ event: "ping", payload: { ...ping, padding: "p".repeat(20 * MiB) } });
    const response = await t.fetch("/webhooks/github", tooLarge);
    expect(response.status).toBe(413);
    await settle(t);
    expect(await snapshotTables(t)).toEqual(before);
  });
});

describe("values callers store: nested at most 15 levels below their document", () => {
  type Ids = { sessionId: Id<"chat_sessions">; workOrderId: Id<"work_orders"> };
  type Store = (t: Backend, ids: Ids, value: unknown) => Promise<unknown>;
  const stores: [string, RegExp, Store][] = [
    [
      "chatMessages:append metadata",
      /^metadata/,
      (t, { sessionId }, metadata) => asUser(t, "alice").mutation(api.chatMessages.append, { sessionId, role: "user", content: "hi", metadata }),
    ],
    [
      "workOrders:create args",
      /^arg deep/,
      (t, { sessionId }, value) =>
        asUser(t, "alice").mutation(api.workOrders.create, { sessionId, workflowType: "codex", prompt: "p", title: "t", args: [{ name: "deep", value }] }),
    ],
    [
      "workOrderArgs:upsert",
      /^arg deep/,
      (t, { workOrderId }, value) => asService(t).mutation(api.workOrderArgs.upsert, { workOrderId, name: "deep", value }),
    ],
  ];

  async function setUp() {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const workOrderId = await newWorkOrder(t, sessionId);
    return { t, ids: { sessionId, workOrderId } };
  }

  test.each(stores)("%s: a value nested 15 levels, with 1,024 fields and 8,192 elements, is stored", async (_store, _field, store) => {
    const { t, ids } = await setUp();
    await store(t, ids, nestedObjects(15));
    await store(t, ids, { fields: objectOfFields(1024), list: Array(8192).fill(0) });
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
