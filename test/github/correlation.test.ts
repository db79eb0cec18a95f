import { describe, expect, test, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import { newBackend, type Backend } from "../helpers/backend";
import { asService, asUser } from "../helpers/callers";
import { deliveryCosts, deliveryRow } from "../helpers/inbox";
import { liveOrder, seedOrders, type Target } from "../helpers/workOrders";
import { pushOf, sha, postGithub } from "../helpers/senders/github";
import { expectConvexError, expectNothingWritten } from "../helpers/assertions";
import { newSession, linksOf, statusOf } from "../helpers/records";
import { withFakeClock, settle } from "../helpers/clock";

withFakeClock();

const MAIN: Target = { targetRepo: "acme/api", targetBranch: "main" };
const PR = "https://github.com/acme/api/pull/12";

async function push(t: Backend, payload: unknown) {
  const response = await postGithub(t, { event: "push", payload });
  await settle(t);
  return await deliveryRow(t, response.body.delivery);
}

/** A pull request merged into acme/api from feature/sso, whose body is `body`. */
async function merge(t: Backend, url: string, commit: string, body = "Adds SSO.") {
  const response = await postGithub(t, {
    event: "pull_request",
    payload: {
      action: "closed",
      repository: { full_name: "acme/api" },
      pull_request: { html_url: url, body, merged: true, merge_commit_sha: commit, head: { ref: "feature/sso", repo: { full_name: "acme/api" } } },
    },
  });
  await settle(t);
  return await deliveryRow(t, response.body.delivery);
}

describe("crowds of orders (rules 1 and 3)", () => {
  test("a push reaches the live orders on a branch crowded with 100 finished ones, older and newer than the crowd", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const before = await liveOrder(t, sessionId, MAIN);
    await seedOrders(t, sessionId, 100, { status: "canceled", target: MAIN });
    const after = await liveOrder(t, sessionId, MAIN);

    const delivery = await push(t, pushOf(MAIN, 1));
    expect(delivery).toMatchObject({ status: "processed", touchedCount: 2 });
    expect(delivery.skipped).toBeUndefined();
    expect(await linksOf(t, before)).toEqual([{ kind: "commit", value: sha(1) }]);
    expect(await linksOf(t, after)).toEqual([{ kind: "commit", value: sha(1) }]);
  });

  test("a push to a branch with more than 100 live orders reaches the 100 most recent and records that it stopped", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const [oldest, ...rest] = await seedOrders(t, sessionId, 101, { status: "running", target: MAIN });

    const delivery = await push(t, pushOf(MAIN, 1));
    expect(delivery).toMatchObject({ status: "processed", touchedCount: 100 });
    expect(delivery.skipped).toEqual([expect.stringMatching(/^Stopped at the 100 most recent live work orders targeting acme\/api:main; older ones were not considered\.$/)]);
    expect(await linksOf(t, oldest)).toEqual([]);
    expect(await linksOf(t, rest.at(-1)!)).toHaveLength(1);
  });

  test("a live order behind 200 newer finished ones on its branch is reached, and nothing is skipped: finished orders are never read", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const buried = await liveOrder(t, sessionId, MAIN);
    await seedOrders(t, sessionId, 200, { status: "succeeded", target: MAIN });

    const costs = deliveryCosts();
    const delivery = await push(t, pushOf(MAIN, 1));
    expect(delivery).toMatchObject({ status: "processed", touchedCount: 1 });
    expect(delivery.skipped).toBeUndefined();
    expect(await linksOf(t, buried)).toEqual([{ kind: "commit", value: sha(1) }]);
    // The live order's index row, the order, its new link and counter, the delivery's own records.
    expect(costs.take()[0].documentsRead).toBeLessThan(20);
  });

  test("mallory creates and cancels 200 orders on alice's branch through the public API; alice's running order there still gets the pushed commit", async () => {
    const t = newBackend();
    const alice = await liveOrder(t, await newSession(t, "alice"), MAIN);
    const mallory = asUser(t, "mallory");
    const sessionId = await newSession(t, "mallory");
    for (let i = 0; i < 200; i += 1) {
      const workOrderId = await mallory.mutation(api.workOrders.create, {
        sessionId, workflowType: "codex-implement", prompt: "noop", title: `crowd ${i}`, status: "draft", target: MAIN,
      });
      await mallory.mutation(api.workOrders.updateStatus, { workOrderId, status: "canceled" });
    }
    const delivery = await push(t, pushOf(MAIN, 1));
    expect(delivery.skipped).toBeUndefined();
    expect(await linksOf(t, alice)).toEqual([{ kind: "commit", value: sha(1) }]);
  });

  test("mallory links 100 of her orders to alice's pull request after alice did, and cancels them; its merge still succeeds alice's order", async () => {
    const t = newBackend();
    const alice = await liveOrder(t, await newSession(t, "alice"));
    await asUser(t, "alice").mutation(api.workOrderLinks.add, { workOrderId: alice, kind: "pr", value: PR });
    const mallory = asUser(t, "mallory");
    const sessionId = await newSession(t, "mallory");
    for (let i = 0; i < 100; i += 1) {
      const workOrderId = await mallory.mutation(api.workOrders.create, { sessionId, workflowType: "codex-implement", prompt: "noop", title: `crowd ${i}`, status: "draft" });
      await mallory.mutation(api.workOrderLinks.add, { workOrderId, kind: "pr", value: PR });
      await mallory.mutation(api.workOrders.updateStatus, { workOrderId, status: "canceled" });
    }
    const delivery = await merge(t, PR, sha(7));
    expect(await statusOf(t, alice)).toBe("succeeded");
    // The finished orders are still reached, after the live one, as far as the bound allows.
    expect(delivery.skipped).toEqual(expect.arrayContaining([expect.stringMatching(/^Stopped at the 1 live and 99 most recently linked other work orders linked to pr /)]));
  });

  test("rule 3 ranks the orders linked to a pull request by their creation, newest first, not by when they were linked", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const oldest = await liveOrder(t, sessionId);
    vi.advanceTimersByTime(1000);
    const newer = await seedOrders(t, sessionId, 100, { status: "running", link: { kind: "pr", value: PR } });
    // Linked last, but created first: the 101st by creation.
    await asService(t).mutation(api.workOrderLinks.add, { workOrderId: oldest, kind: "pr", value: PR });

    const delivery = await merge(t, PR, sha(7));
    expect(delivery.skipped).toEqual([expect.stringMatching(/^Stopped at the 100 most recent live work orders linked to pr /)]);
    expect(await statusOf(t, oldest)).toBe("running");
    expect(await statusOf(t, newer[0])).toBe("succeeded");
  });

  test("a merged pull request linked to 100 older orders still succeeds the order most recently linked to it, and records that it stopped", async () => {
    // Many people's orders, seeded as one person's: past what one may hold (JANGAR_MAX_LIVE_ORDERS).
    vi.stubEnv("JANGAR_MAX_LIVE_ORDERS", "1000");
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const [oldest] = await seedOrders(t, sessionId, 100, { status: "running", link: { kind: "pr", value: PR } });
    const current = await liveOrder(t, sessionId);
    await asService(t).mutation(api.workOrderLinks.add, { workOrderId: current, kind: "pr", value: PR });

    const delivery = await merge(t, PR, sha(7));
    expect(delivery.status).toBe("processed");
    expect(delivery.skipped).toEqual([expect.stringMatching(/^Stopped at the 100 most recent live work orders linked to pr https:\/\/github\.com\/acme\/api\/pull\/12;/)]);
    expect(await statusOf(t, current)).toBe("succeeded");
    expect(await linksOf(t, current)).toEqual([{ kind: "pr", value: PR }, { kind: "commit", value: sha(7) }]);
    expect(await statusOf(t, oldest)).toBe("running");
  });
});

describe("crowds of large orders, under Convex's own limits", () => {
  const PROMPT_BYTES = 256 * 1024;

  test("70 finished orders with 256 KiB prompts on a branch: a push to it reads none of them and links the live one", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const live = await liveOrder(t, sessionId, MAIN);
    await seedOrders(t, sessionId, 70, { status: "canceled", target: MAIN, promptBytes: PROMPT_BYTES });
    const costs = deliveryCosts();
    const delivery = await push(t, pushOf(MAIN, 1));
    expect(delivery).toMatchObject({ status: "processed", touchedCount: 1 });
    expect(await linksOf(t, live)).toEqual([{ kind: "commit", value: sha(1) }]);
    expect(costs.take()[0].bytesRead).toBeLessThan(PROMPT_BYTES);
  });

  // The contract's bound is 100 orders per selector: `npm run bench` (BENCH_CROWD=100) reaches it.
  const CROWD = Number(process.env.BENCH_CROWD ?? 30);

  test(`a merge reaching ${CROWD} live orders with 256 KiB prompts by its branch, ${CROWD} by its pull request and 20 by markers is applied in several transactions, each within Convex's limits`, async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const SSO: Target = { targetRepo: "acme/api", targetBranch: "feature/sso" };
    const byBranch = await seedOrders(t, sessionId, CROWD, { status: "running", target: SSO, promptBytes: PROMPT_BYTES });
    const byLink = await seedOrders(t, sessionId, CROWD, { status: "running", link: { kind: "pr", value: PR }, promptBytes: PROMPT_BYTES });
    const byMarker = await seedOrders(t, sessionId, 20, { status: "running", promptBytes: PROMPT_BYTES });
    const costs = deliveryCosts();

    const delivery = await merge(t, PR, sha(7), byMarker.map((id) => `Work-Order: ${id}`).join("\n"));
    expect(delivery).toMatchObject({ status: "processed", attempts: 1 });
    expect(delivery.skipped).toBeUndefined();
    expect(delivery.progress).toBeUndefined();
    // A status change and a merge-commit link for each, and the pull request's link where it was not yet.
    const reached = 2 * CROWD + 20;
    expect(delivery.touchedCount).toBe(reached + reached + (CROWD + 20));
    for (const workOrderId of [byBranch[0], byBranch.at(-1)!, byLink[0], byLink.at(-1)!, byMarker[0], byMarker[19]]) {
      expect(await statusOf(t, workOrderId)).toBe("succeeded");
      expect(await linksOf(t, workOrderId)).toEqual(expect.arrayContaining([{ kind: "pr", value: PR }, { kind: "commit", value: sha(7) }]));
    }
    const transactions = costs.take();
    expect(transactions.length).toBeGreaterThan(2);
    for (const cost of transactions) {
      expect(cost.bytesRead).toBeLessThan(16 * 1024 * 1024);
      expect(cost.bytesWritten).toBeLessThan(16 * 1024 * 1024);
    }
  });
});

describe("links per order", () => {
  test("a push to an order holding 1,000 commit links reads as many documents as to an order holding none", async () => {
    // A read limit below the order's links: reading them all would fail the delivery, as 32,000 links do under Convex's own limit.
    const t = newBackend({ documentsRead: 500 });
    const sessionId = await newSession(t, "alice");
    const empty: Target = { targetRepo: "acme/api", targetBranch: "empty" };
    await liveOrder(t, sessionId, empty);
    const full = await liveOrder(t, sessionId, MAIN);
    await t.run(async (ctx) => {
      for (let n = 10_001; n <= 11_000; n += 1) {
        await ctx.db.insert("work_order_links", { workOrderId: full, kind: "commit", value: sha(n) });
      }
    });
    // Counter shards chosen alike, and already there, for both pushes.
    vi.spyOn(Math, "random").mockReturnValue(0);
    await push(t, pushOf({ targetRepo: "acme/api", targetBranch: "nobody" }, 1));
    const costs = deliveryCosts();

    const toEmpty = await push(t, pushOf(empty, 25));
    const toFull = await push(t, pushOf(MAIN, 25));
    expect(toEmpty).toMatchObject({ status: "processed", touchedCount: 25 });
    expect(toFull).toMatchObject({ status: "processed", touchedCount: 25 });
    const [emptyCost, fullCost] = costs.take();
    expect(fullCost.documentsRead).toBe(emptyCost.documentsRead);
    expect(fullCost.documentsRead).toBeLessThan(20);
  });

  test("an order holds at most 5,000 links: workOrderLinks:add past that is INVALID_ARGUMENT, a push past it is skipped and recorded", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const full = await liveOrder(t, sessionId, MAIN);
    const other = await liveOrder(t, sessionId, MAIN);
    // 5,000 links, counted as the code counts them (8 shards of 625).
    await t.run(async (ctx) => {
      for (let n = 1; n <= 5000; n += 1) {
        await ctx.db.insert("work_order_links", { workOrderId: full, kind: "commit", value: sha(100_000 + n) });
      }
      for (let shard = 0; shard < 8; shard += 1) {
        await ctx.db.insert("work_order_link_counts", { workOrderId: full, shard, count: 625 });
      }
    });
    const service = asService(t);
    await expectNothingWritten(t, async () => {
      const error = await expectConvexError(
        service.mutation(api.workOrderLinks.add, { workOrderId: full, kind: "pr", value: PR }),
        "INVALID_ARGUMENT",
      );
      expect(error.message).toMatch(/already holds 5000 links/);
    });
    // A link it has is still answered with its id.
    const existing = await t.run(async (ctx) =>
      (await ctx.db.query("work_order_links").withIndex("by_workOrderId_kind", (q) => q.eq("workOrderId", full).eq("kind", "commit")).first())!,
    );
    expect(await service.mutation(api.workOrderLinks.add, { workOrderId: full, kind: "commit", value: existing.value })).toBe(existing._id);

    const delivery = await push(t, pushOf(MAIN, 2));
    expect(delivery).toMatchObject({ status: "processed", touchedCount: 2 });
    expect(delivery.skipped).toEqual([`Work order ${full} holds 5000 links, the most it may; 2 more not added.`]);
    expect(await linksOf(t, other)).toHaveLength(2);
    expect(await linksOf(t, full)).toHaveLength(5000);
  });

  test("the links an order holds are counted as calls and deliveries add them", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const workOrderId = await liveOrder(t, sessionId, MAIN);
    const service = asService(t);
    await service.mutation(api.workOrderLinks.add, { workOrderId, kind: "pr", value: PR });
    await service.mutation(api.workOrderLinks.add, { workOrderId, kind: "pr", value: `${PR}/` });
    await service.mutation(api.workOrderLinks.add, { workOrderId, kind: "commit", value: sha(1).toUpperCase() });
    await push(t, pushOf(MAIN, 30));
    await push(t, pushOf(MAIN, 30, 21));
    const counted = await t.run(async (ctx) =>
      (await ctx.db.query("work_order_link_counts").withIndex("by_workOrderId_shard", (q) => q.eq("workOrderId", workOrderId)).collect())
        .reduce((sum, shard) => sum + shard.count, 0),
    );
    expect(await linksOf(t, workOrderId)).toHaveLength(51);
    expect(counted).toBe(51);
  });
});

describe("what a delivery keeps", () => {
  test("60 markers of 40 KB each leave a small delivery record, every skip cut short", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const workOrderId = await liveOrder(t, sessionId, MAIN);
    const markers = Array.from({ length: 60 }, (_, i) => `Work-Order: ${String(i).padStart(40_000, "x")}`).join("\n");

    const delivery = await push(t, pushOf(MAIN, 1, 1, () => `Fix\n\n${markers}`));
    expect(delivery.status).toBe("processed");
    expect(await linksOf(t, workOrderId)).toHaveLength(1);
    expect(JSON.stringify(delivery).length).toBeLessThan(64 * 1024);
    for (const skip of delivery.skipped ?? []) {
      expect(skip.length).toBeLessThanOrEqual(300);
    }
  });

  test("a commit naming 4,200 work orders is applied within the index-range limit, and the excess is recorded", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const workOrderId = await liveOrder(t, sessionId, MAIN);
    // Values shaped like this deployment's work-order ids, naming orders that do not exist.
    const digits = workOrderId.length - "work_orders".length;
    const markers = Array.from({ length: 4200 }, (_, i) => `Work-Order: ${String(900_000 + i).padStart(digits, "9")}work_orders`);

    const delivery = await push(t, pushOf(MAIN, 1, 1, () => `Fix\n\n${markers.join("\n")}`));
    expect(delivery.status).toBe("processed");
    expect(await linksOf(t, workOrderId)).toHaveLength(1);
    expect(delivery.skipped!.length).toBeGreaterThan(0);
    expect(delivery.skipped!.length).toBeLessThanOrEqual(100);
    expect(JSON.stringify(delivery).length).toBeLessThan(64 * 1024);
  });

  test("notes from interpreting a delivery are kept with its skipped effects, bounded", async () => {
    const t = newBackend();
    const deliveryId = await t.run(async (ctx) => {
      const body = await ctx.storage.store(new Blob(["{}"]));
      const now = Date.now();
      return await ctx.db.insert("webhook_deliveries", {
        source: "github",
        deliveryKey: "notes-1",
        event: "push",
        contentType: "application/json",
        body,
        bodyBytes: 2,
        receivedAt: now,
        status: "accepted",
        attempts: 0,
        nextAttemptAt: now,
      });
    });
    const notes = Array.from({ length: 150 }, (_, i) => `Marker ${i} ignored: ${"y".repeat(1000)}`);
    await t.mutation(internal.inbox.process.completeDelivery, {
      deliveryId,
      interpretation: { kind: "commands", commands: [], skipped: notes },
      digest: "notes-1",
    });
    const delivery = await deliveryRow(t, deliveryId);
    expect(delivery.status).toBe("ignored");
    expect(delivery.skipped).toHaveLength(100);
    expect(delivery.skipped![0]).toMatch(/^Marker 0 ignored: y+…$/);
    expect(delivery.skipped![0].length).toBe(300);
    expect(delivery.ignoredReason!.length).toBeLessThanOrEqual(2000);
  });
});

