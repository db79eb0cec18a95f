import { describe, expect, test } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { LIMITS } from "../../src/limits";
import { newBackend, type Backend } from "../helpers/backend";
import { asService, asUser } from "../helpers/callers";
import { sha } from "../helpers/senders/github";
import { newSession, newWorkOrder } from "../helpers/records";
import { withFakeClock } from "../helpers/clock";

withFakeClock();

/** `count` messages written directly into a session, `content` each, a few per transaction. */
async function seedMessages(t: Backend, sessionId: Id<"chat_sessions">, count: number, content: (i: number) => string, metadata?: unknown) {
  for (let start = 0; start < count; start += 20) {
    await t.run(async (ctx) => {
      for (let i = start; i < Math.min(count, start + 20); i += 1) {
        await ctx.db.insert("chat_messages", { sessionId, role: "user", content: content(i), metadata, createdAt: Date.now() + i });
      }
    });
  }
}

/** Every item of a list, page by page; the pages' sizes. */
async function walk<T>(fetchPage: (cursor: string | null) => Promise<{ page: T[]; isDone: boolean; continueCursor: string }>) {
  const items: T[] = [];
  const sizes: number[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 100; pages += 1) {
    const result = await fetchPage(cursor);
    items.push(...result.page);
    sizes.push(result.page.length);
    if (result.isDone) {
      return { items, sizes };
    }
    cursor = result.continueCursor;
  }
  throw new Error("the list did not end");
}

describe("lists", () => {
  test("a page holds at most 100 items, whatever numItems asks, and the walk still returns every item", async () => {
    const t = newBackend();
    const alice = asUser(t, "alice");
    const sessionId = await newSession(t, "alice");
    await seedMessages(t, sessionId, 150, (i) => `message ${i}`);
    await t.run(async (ctx) => {
      for (let i = 0; i < 120; i += 1) {
        await ctx.db.insert("chat_sessions", { userId: "alice", title: `Session ${i}`, createdAt: Date.now(), updatedAt: Date.now() + i });
        await ctx.db.insert("work_orders", {
          sessionId,
          workflowType: "codex-implement",
          prompt: `Task ${i}`,
          title: `Task ${i}`,
          status: "submitted",
          requestedBy: "alice",
          createdAt: Date.now() + i,
          updatedAt: Date.now() + i,
        });
      }
    });
    const huge = (cursor: string | null) => ({ numItems: 10_000, cursor });

    const messages = await walk((cursor) => alice.query(api.chatMessages.listBySession, { sessionId, paginationOpts: huge(cursor) }));
    expect(messages.sizes).toEqual([100, 50]);
    expect(messages.items.map((message) => message.content)).toEqual(Array.from({ length: 150 }, (_, i) => `message ${i}`));
    const sessions = await walk((cursor) => alice.query(api.chatSessions.list, { paginationOpts: huge(cursor) }));
    expect(sessions.sizes).toEqual([100, 21]);
    const orders = await walk((cursor) => alice.query(api.workOrders.listBySession, { sessionId, paginationOpts: huge(cursor) }));
    expect(orders.sizes).toEqual([100, 20]);
  });

  test("a page of the largest messages ends before Convex's read limit, and the walk still returns every message", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    // 60 messages at the content limit with 60 KiB of metadata: about 19 MiB, past the 16 MiB a transaction may read.
    const metadata = { note: "m".repeat(60 * 1024) };
    await seedMessages(t, sessionId, 60, (i) => `${i} `.padEnd(LIMITS.contentBytes, "x"), metadata);

    const pages = await walk((cursor) =>
      asUser(t, "alice").query(api.chatMessages.listBySession, { sessionId, paginationOpts: { numItems: 60, cursor } }),
    );
    expect(pages.items).toHaveLength(60);
    expect(pages.sizes.length).toBeGreaterThan(2);
    expect(Math.max(...pages.sizes)).toBeLessThanOrEqual(30);
  });
});

describe("work orders", () => {
  test("workOrders:get returns at most 5,000 links, the cap an order holds, in the order they were added", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const workOrderId = await newWorkOrder(t, sessionId);
    // More links than the cap allows, as data written before the cap would be.
    await t.run(async (ctx) => {
      for (let n = 1; n <= 5100; n += 1) {
        await ctx.db.insert("work_order_links", { workOrderId, kind: "commit", value: sha(n) });
      }
    });
    const order = await asService(t).query(api.workOrders.get, { workOrderId });
    expect(order!.links).toHaveLength(5000);
    expect(order!.links[0]).toEqual({ kind: "commit", value: sha(1) });
  });

  test("workOrders:get never leaves out an order's pull requests and issues for its commits: an order holding 5,000 commits written before they were counted shows the pull request added after them", async () => {
    const t = newBackend();
    const workOrderId = await newWorkOrder(t, await newSession(t, "alice"));
    await t.run(async (ctx) => {
      for (let n = 1; n <= 5000; n += 1) {
        await ctx.db.insert("work_order_links", { workOrderId, kind: "commit", value: sha(n) });
      }
    });
    // Uncounted, the commits leave room for it (migrations:backfillWorkOrders counts them).
    const service = asService(t);
    await service.mutation(api.workOrderLinks.add, { workOrderId, kind: "pr", value: "https://github.com/acme/api/pull/9" });
    await service.mutation(api.workOrderLinks.add, { workOrderId, kind: "github_issue", value: "https://github.com/acme/api/issues/3" });
    const { links } = (await service.query(api.workOrders.get, { workOrderId }))!;
    expect(links).toHaveLength(5000);
    // In the order they were added: the commits the bound keeps first, then the pull request and the issue.
    expect(links.slice(-2)).toEqual([
      { kind: "pr", value: "https://github.com/acme/api/pull/9" },
      { kind: "github_issue", value: "https://github.com/acme/api/issues/3" },
    ]);
    expect(links[0]).toEqual({ kind: "commit", value: sha(1) });
  });

  test("launching an order reads its args and target, not its links", async () => {
    // Fewer reads allowed than the order has links.
    const t = newBackend({ documentsRead: 30 });
    const sessionId = await newSession(t, "alice");
    const workOrderId = await newWorkOrder(t, sessionId, {
      args: [{ name: "model", value: "gpt-5" }],
      target: { targetRepo: "acme/api", targetBranch: "main" },
    });
    await t.run(async (ctx) => {
      for (let n = 1; n <= 100; n += 1) {
        await ctx.db.insert("work_order_links", { workOrderId, kind: "commit", value: sha(n) });
      }
    });
    const request = await t.query(internal.launcher.launchRequest, { workOrderId });
    expect(request?.workflowType).toBe("codex-implement");
    expect(JSON.parse(request!.inputJson)).toEqual({
      workOrderId,
      prompt: "Make the login page accept SSO.",
      args: [{ name: "model", value: "gpt-5" }],
      target: { targetRepo: "acme/api", targetBranch: "main" },
    });
  });
});
