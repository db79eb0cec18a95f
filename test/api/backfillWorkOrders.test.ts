/**
 * migrations:backfillWorkOrders brings orders written before the live-order
 * indexes (and before the per-order link count) up to date.
 */
import { describe, expect, test, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { LIMITS } from "../../src/limits";
import { newBackend, type Backend } from "../helpers/backend";
import { asService } from "../helpers/callers";
import { pushOf, sha, postGithub } from "../helpers/senders/github";
import { settle, withFakeClock } from "../helpers/clock";
import { expectConvexError } from "../helpers/assertions";
import { expectIndexTrue } from "../helpers/orders/liveIndex";
import { linksOf, newSession, newWorkOrder } from "../helpers/records";

withFakeClock();

describe("migrations:backfillWorkOrders", () => {
  /** Orders as the code before the indexes and the count wrote them: no live rows, links uncounted. */
  async function legacyOrders(t: Backend, count: number, linksEach: number, promptBytes?: number) {
    const sessionId = await newSession(t, "alice");
    const ids: Id<"work_orders">[] = [];
    for (let i = 0; i < count; i += 1) {
      vi.advanceTimersByTime(1000);
      ids.push(
        await t.run(async (ctx) => {
          const now = Date.now();
          const status = i % 3 === 2 ? "succeeded" : "running";
          const workOrderId = await ctx.db.insert("work_orders", {
            sessionId, workflowType: "codex-implement", prompt: `Task ${i} `.padEnd(promptBytes ?? 0, "p"), title: `Task ${i}`, status, requestedBy: "alice", createdAt: now, updatedAt: now,
          });
          await ctx.db.insert("work_order_targets", { workOrderId, targetRepo: "acme/api", targetBranch: "main" });
          await ctx.db.insert("work_order_links", { workOrderId, kind: "pr", value: `https://github.com/acme/api/pull/${i + 1}` });
          for (let n = 1; n < linksEach; n += 1) {
            await ctx.db.insert("work_order_links", { workOrderId, kind: "commit", value: sha(1_000_000 * (i + 1) + n) });
          }
          return workOrderId;
        }),
      );
    }
    return ids;
  }

  test("orders written before the indexes are found by their branch and their pull requests once it has run, and running it again changes nothing", async () => {
    const t = newBackend();
    const [live, , finished] = await legacyOrders(t, 3, 1);
    // Before: the push finds nobody.
    await postGithub(t, { event: "push", payload: pushOf({ targetRepo: "acme/api", targetBranch: "main" }, 1) });
    await settle(t);
    expect(await linksOf(t, live)).toHaveLength(1);

    await t.mutation(internal.migrations.backfillWorkOrders, {});
    await settle(t);
    await expectIndexTrue(t);
    await postGithub(t, { event: "push", payload: pushOf({ targetRepo: "acme/api", targetBranch: "main" }, 1, 2) });
    await settle(t);
    expect(await linksOf(t, live)).toContainEqual({ kind: "commit", value: sha(2) });
    expect(await linksOf(t, finished)).toHaveLength(1);

    const before = await t.run(async (ctx) => ({
      live: await ctx.db.query("work_order_live_targets").collect(),
      links: await ctx.db.query("work_order_live_links").collect(),
      requesters: await ctx.db.query("work_order_live_requesters").collect(),
      counts: await ctx.db.query("work_order_link_counts").collect(),
    }));
    await t.mutation(internal.migrations.backfillWorkOrders, {});
    await settle(t);
    expect(
      await t.run(async (ctx) => ({
        live: await ctx.db.query("work_order_live_targets").collect(),
        links: await ctx.db.query("work_order_live_links").collect(),
        requesters: await ctx.db.query("work_order_live_requesters").collect(),
        counts: await ctx.db.query("work_order_link_counts").collect(),
      })),
    ).toEqual(before);
  });

  test("an order holding 5,000 links written before they were counted refuses a 5,001st once it has run", async () => {
    const t = newBackend();
    const workOrderId = await newWorkOrder(t, await newSession(t, "alice"));
    await t.run(async (ctx) => {
      for (let n = 1; n <= 5000; n += 1) {
        await ctx.db.insert("work_order_links", { workOrderId, kind: "commit", value: sha(n) });
      }
    });
    const result = await t.mutation(internal.migrations.backfillWorkOrders, {});
    expect(result).toEqual({ checked: 1, linksCounted: 5000, done: true });
    await expectConvexError(
      asService(t).mutation(api.workOrderLinks.add, { workOrderId, kind: "pr", value: "https://github.com/acme/api/pull/9" }),
      "INVALID_ARGUMENT",
    );
  });

  /** The batches the migration logs: how many orders each checked, and what its transaction read. */
  function loggedBatches() {
    const batches: { checked: number; bytesRead: number }[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => {
      const match = /^migrations:backfillWorkOrders: .*checked (\d+) work order\(s\), counted \d+ link\(s\) in one transaction (\{.*\})/.exec(String(line));
      if (match) batches.push({ checked: Number(match[1]), bytesRead: (JSON.parse(match[2]) as { bytesRead: number }).bytesRead });
    });
    return batches;
  }

  /** How many live target rows the orders have, and how many links are counted. */
  async function indexedAndCounted(t: Backend) {
    return await t.run(async (ctx) => ({
      liveTargets: (await ctx.db.query("work_order_live_targets").collect()).length,
      counted: (await ctx.db.query("work_order_link_counts").collect()).reduce((sum, row) => sum + row.count, 0),
    }));
  }

  test("65 orders with 256 KiB prompts, more than a transaction may read, are all brought up to date, no transaction reading more than 8 MiB", async () => {
    const t = newBackend();
    await legacyOrders(t, 65, 1, LIMITS.promptBytes);
    const batches = loggedBatches();
    await t.mutation(internal.migrations.backfillWorkOrders, {});
    await settle(t);
    // Every third order is finished: 44 live ones keep their target in the index; every order's link is counted.
    expect(await indexedAndCounted(t)).toEqual({ liveTargets: 44, counted: 65 });
    expect(batches.reduce((sum, batch) => sum + batch.checked, 0)).toBe(65);
    expect(Math.max(...batches.map((batch) => batch.bytesRead))).toBeLessThanOrEqual(8 * 1024 * 1024);
  });

  test("101 orders of 32 KB are done in a few transactions, each order read once (not one order a transaction, each reading 100)", async () => {
    const t = newBackend();
    await legacyOrders(t, 101, 1, 32 * 1024);
    const batches = loggedBatches();
    const first = await t.mutation(internal.migrations.backfillWorkOrders, {});
    expect(first.checked).toBeGreaterThan(50);
    await settle(t);
    await expectIndexTrue(t);
    expect(batches.reduce((sum, batch) => sum + batch.checked, 0)).toBe(101);
    expect(batches.length).toBeLessThanOrEqual(3);
  });

  test("it walks the orders in transactions of at most 100, each scheduling the next, until every order is done", async () => {
    const t = newBackend();
    await legacyOrders(t, 130, 3);
    const first = await t.mutation(internal.migrations.backfillWorkOrders, {});
    expect(first).toEqual({ checked: 100, linksCounted: 300, done: false });
    await settle(t);
    await expectIndexTrue(t);
    const counted = await t.run(async (ctx) => (await ctx.db.query("work_order_link_counts").collect()).reduce((sum, row) => sum + row.count, 0));
    expect(counted).toBe(130 * 3);
  });
});
