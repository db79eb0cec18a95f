/**
 * The derived indexes of live work orders (work_order_live_targets,
 * work_order_live_links, work_order_live_requesters) say exactly what the
 * orders' status, requester, target and links say, whatever sequence of changes led there; and the migration
 * brings orders written before them (and before the per-order link count)
 * up to date.
 *
 * The property test prints its seed; rerun a failure with
 * `FC_SEED=<seed> npx vitest run test/liveIndex.test.ts`.
 */
import fc from "fast-check";
import { describe, expect, test, vi } from "vitest";
import { api, internal } from "../convex/_generated/api";
import type { Doc, Id } from "../convex/_generated/dataModel";
import { LIMITS } from "../src/limits";
import { newBackend, type Backend } from "./helpers/backend";
import { asService } from "./helpers/callers";
import { liveOrder } from "./helpers/workOrders";
import { pushOf, sha, postGithub } from "./helpers/senders/github";
import { settle, withFakeClock } from "./helpers/clock";
import { expectConvexError } from "./helpers/assertions";
import { linksOf, newSession, newWorkOrder } from "./helpers/records";

const SEED = Number(process.env.FC_SEED ?? Math.floor(Math.random() * 0x7fffffff));
const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 30);

withFakeClock();

const TERMINAL = new Set(["succeeded", "failed", "canceled"]);
const LIVE_LINKS_PER_ORDER = 20;

type Tables = { orders: Doc<"work_orders">[]; targets: Doc<"work_order_targets">[]; links: Doc<"work_order_links">[] };

/** The rows the indexes must hold, worked out from the orders, targets and links alone. */
function expectedIndex({ orders, targets, links }: Tables) {
  const liveTargets: unknown[] = [];
  const liveLinks: unknown[] = [];
  const liveRequesters: unknown[] = [];
  for (const order of orders.filter((row) => !TERMINAL.has(row.status))) {
    liveRequesters.push({ workOrderId: order._id, requestedBy: order.requestedBy });
    const target = targets.find((row) => row.workOrderId === order._id);
    if (target !== undefined) {
      liveTargets.push({ workOrderId: order._id, targetRepo: target.targetRepo, targetBranch: target.targetBranch, orderCreatedAt: order.createdAt });
    }
    const followed = links
      .filter((row) => row.workOrderId === order._id && row.kind !== "commit")
      .sort((a, b) => a._creationTime - b._creationTime)
      .slice(0, LIVE_LINKS_PER_ORDER);
    liveLinks.push(...followed.map((row) => ({ workOrderId: order._id, kind: row.kind, value: row.value, orderCreatedAt: order.createdAt })));
  }
  return { liveTargets: sortRows(liveTargets), liveLinks: sortRows(liveLinks), liveRequesters: sortRows(liveRequesters) };
}

/** Rows as comparable text: fields in one order, rows in one order. */
function sortRows(rows: unknown[]) {
  return rows.map((row) => JSON.stringify(row, Object.keys(row as object).sort())).sort();
}

async function tablesAndIndex(t: Backend) {
  return await t.run(async (ctx) => {
    const strip = ({ _id, _creationTime, ...row }: { _id: string; _creationTime: number }) => row;
    return {
      tables: {
        orders: await ctx.db.query("work_orders").collect(),
        targets: await ctx.db.query("work_order_targets").collect(),
        links: await ctx.db.query("work_order_links").collect(),
      },
      index: {
        liveTargets: sortRows((await ctx.db.query("work_order_live_targets").collect()).map(strip)),
        liveLinks: sortRows((await ctx.db.query("work_order_live_links").collect()).map(strip)),
        liveRequesters: sortRows((await ctx.db.query("work_order_live_requesters").collect()).map(strip)),
      },
    };
  });
}

async function expectIndexTrue(t: Backend) {
  const { tables, index } = await tablesAndIndex(t);
  expect(index).toEqual(expectedIndex(tables));
}

const TARGETS = [
  { targetRepo: "acme/api", targetBranch: "main" },
  { targetRepo: "https://github.com/Acme/API", targetBranch: "refs/heads/feature/sso" },
  { targetRepo: "/srv/repos/tools", targetBranch: "main" },
];
const STATUSES = ["draft", "submitted", "accepted", "running", "succeeded", "failed", "canceled"] as const;

/** One change to the orders, through the public functions; `order` picks one of those made so far. */
const change = fc.oneof(
  fc.record({ op: fc.constant("create" as const), status: fc.constantFrom("draft" as const, "submitted" as const), target: fc.option(fc.constantFrom(...TARGETS)) }),
  fc.record({ op: fc.constant("target" as const), order: fc.nat(), target: fc.constantFrom(...TARGETS) }),
  fc.record({
    op: fc.constant("link" as const),
    order: fc.nat(),
    kind: fc.constantFrom("pr" as const, "github_issue" as const, "commit" as const),
    number: fc.integer({ min: 1, max: 6 }),
  }),
  fc.record({ op: fc.constant("links" as const), order: fc.nat(), count: fc.integer({ min: 1, max: 24 }) }),
  fc.record({ op: fc.constant("status" as const), order: fc.nat(), status: fc.constantFrom(...STATUSES) }),
  fc.record({ op: fc.constant("merge" as const), number: fc.integer({ min: 1, max: 6 }) }),
);

describe("the live-order indexes", () => {
  test("after any sequence of creates, target changes, links, status changes and merges, they hold exactly the live orders' requesters, targets and first 20 issues and pull requests (property)", async () => {
    console.info(`live index property: seed=${SEED} numRuns=${NUM_RUNS} (rerun with FC_SEED=${SEED})`);
    await fc.assert(
      fc.asyncProperty(fc.array(change, { minLength: 1, maxLength: 14 }), async (changes) => {
        const t = newBackend();
        const service = asService(t);
        const sessionId = await newSession(t, "alice");
        const orders: Id<"work_orders">[] = [];
        const pick = (n: number) => (orders.length === 0 ? null : orders[n % orders.length]);
        for (const step of changes) {
          vi.advanceTimersByTime(1000);
          const workOrderId = "order" in step ? pick(step.order) : null;
          switch (step.op) {
            case "create":
              orders.push(await newWorkOrder(t, sessionId, { status: step.status, target: step.target ?? undefined }));
              break;
            case "target":
              if (workOrderId !== null) await service.mutation(api.workOrderTargets.upsert, { workOrderId, ...step.target });
              break;
            case "link":
              if (workOrderId !== null) {
                const value = step.kind === "commit" ? sha(step.number) : `https://github.com/acme/api/${step.kind === "pr" ? "pull" : "issues"}/${step.number}`;
                await service.mutation(api.workOrderLinks.add, { workOrderId, kind: step.kind, value });
              }
              break;
            case "links":
              for (let n = 1; workOrderId !== null && n <= step.count; n += 1) {
                await service.mutation(api.workOrderLinks.add, { workOrderId, kind: "pr", value: `https://github.com/acme/web/pull/${100 + n}` });
              }
              break;
            case "status":
              if (workOrderId !== null) {
                await service.mutation(api.workOrders.updateStatus, { workOrderId, status: step.status }).catch(() => null);
              }
              break;
            case "merge": {
              const url = `https://github.com/acme/api/pull/${step.number}`;
              await postGithub(t, {
                event: "pull_request",
                payload: {
                  action: "closed",
                  repository: { full_name: "acme/api" },
                  pull_request: { html_url: url, body: "", merged: true, merge_commit_sha: sha(99), head: { ref: "main", repo: { full_name: "acme/api" } } },
                },
              });
              await settle(t);
              break;
            }
          }
        }
        await expectIndexTrue(t);
      }),
      { seed: SEED, numRuns: NUM_RUNS },
    );
  });

  test("an order linked to 25 pull requests is found by its first 20 while live, and by none once finished", async () => {
    const t = newBackend();
    const workOrderId = await liveOrder(t, await newSession(t, "alice"));
    for (let n = 1; n <= 25; n += 1) {
      await asService(t).mutation(api.workOrderLinks.add, { workOrderId, kind: "pr", value: `https://github.com/acme/api/pull/${n}` });
    }
    await expectIndexTrue(t);
    expect((await tablesAndIndex(t)).index.liveLinks).toHaveLength(20);
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: "canceled" });
    expect((await tablesAndIndex(t)).index).toEqual({ liveTargets: [], liveLinks: [], liveRequesters: [] });
  });
});

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
