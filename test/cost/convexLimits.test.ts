/**
 * Convex's production limits: the test backend holds every test to the ones
 * convex-test leaves out (document size, nesting and width, function
 * arguments and results, HTTP bodies). storedValues.test.ts holds the values
 * callers and senders store, refused before Convex would refuse them.
 */
import { actionGeneric, makeFunctionReference, mutationGeneric, queryGeneric } from "convex/server";
import { v } from "convex/values";
import { describe, expect, test, vi } from "vitest";
import { api } from "../../convex/_generated/api";
import { newBackend, type Backend } from "../helpers/backend";
import { asUser } from "../helpers/callers";
import { githubRequest } from "../helpers/senders/github";
import { expectConvexLimit, expectNothingWritten, snapshotTables } from "../helpers/assertions";
import { nestedObjects, objectOfFields } from "../helpers/convexValues";
import { newSession } from "../helpers/records";
import { withEverySenderConfigured } from "../helpers/senders/all";
import { settle } from "../helpers/clock";

const MiB = 1024 * 1024;

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
