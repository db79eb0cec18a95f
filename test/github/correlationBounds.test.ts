import { describe, expect, test, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import { newBackend } from "../helpers/backend";
import { asService } from "../helpers/callers";
import { deliveryCosts } from "../helpers/bench/costLog";
import { deliveryRow } from "../helpers/inbox/deliveries";
import { liveOrder, type Target } from "../helpers/orders/crowds";
import { pushOf, sha } from "../helpers/senders/github";
import { expectConvexError, expectNothingWritten } from "../helpers/assertions";
import { newSession, linksOf } from "../helpers/records";
import { withFakeClock } from "../helpers/clock";
import { MAIN, PR, push } from "../helpers/github/deliveries";

withFakeClock();

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
