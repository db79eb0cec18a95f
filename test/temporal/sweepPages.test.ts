import { describe, expect, test, vi } from "vitest";
import { internal } from "../../convex/_generated/api";
import { LIMITS } from "../../src/limits";
import { newBackend, type Backend } from "../helpers/backend";
import { seedOrders } from "../helpers/orders/crowds";
import { newSession, statusOf, orderOf } from "../helpers/records";
import { MINUTE, withFakeClock, settle } from "../helpers/clock";
import { orderIn, reconcile, withFakeTemporal } from "../helpers/temporal";

withFakeClock();
const fake = withFakeTemporal();

describe("a page reads at most 8 MiB, whatever the orders' sizes", () => {
  // Orders as large as workOrders:create takes: 33 of them, each read twice by the old pages
  // (on the page, then to change or refresh it), are more than the 16 MiB a transaction may read.
  const LARGE = 33;
  const BATCH_READ_BYTES = 8 * 1024 * 1024;

  /** `count` running orders with 256 KiB prompts, last touched a day ago. */
  async function largeStaleOrders(t: Backend, count: number) {
    const orders = await seedOrders(t, await newSession(t, "alice"), count, { status: "running", promptBytes: LIMITS.promptBytes });
    vi.setSystemTime(Date.now() + 25 * 60 * MINUTE);
    return orders;
  }

  /** The cost each page's transaction logged, by what it did. */
  function pageCosts(did: "failed" | "reconciled") {
    const costs: { bytesRead: number }[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => {
      const match = new RegExp(`^reconcile: ${did} \\d+ \\w+ order\\(s\\) in one transaction (\\{.*\\})$`).exec(String(line));
      if (match) costs.push(JSON.parse(match[1]) as { bytesRead: number });
    });
    return costs;
  }

  test(`without Temporal, ${LARGE} stale orders with 256 KiB prompts are all failed, over pages of at most 8 MiB read`, async () => {
    vi.stubEnv("TEMPORAL_HTTP_URL", "");
    const t = newBackend();
    const orders = await largeStaleOrders(t, LARGE);
    const costs = pageCosts("failed");
    await reconcile(t);
    for (const workOrderId of orders) {
      expect(await statusOf(t, workOrderId)).toBe("failed");
    }
    expect(costs.length).toBeGreaterThan(1);
    expect(Math.max(...costs.map((cost) => cost.bytesRead))).toBeLessThanOrEqual(BATCH_READ_BYTES);
  });

  test(`with Temporal, ${LARGE} stale orders with 256 KiB prompts are all refreshed, over pages of at most 8 MiB read`, async () => {
    const t = newBackend();
    const orders = await largeStaleOrders(t, LARGE);
    for (const workOrderId of orders) {
      fake.temporal.setStatus(workOrderId, "RUNNING");
    }
    const costs = pageCosts("reconciled");
    await reconcile(t);
    for (const workOrderId of orders) {
      expect(await orderOf(t, workOrderId)).toMatchObject({ status: "running", updatedAt: Date.now() });
    }
    expect(fake.temporal.calls).toHaveLength(LARGE);
    expect(costs.length).toBeGreaterThan(1);
    expect(Math.max(...costs.map((cost) => cost.bytesRead))).toBeLessThanOrEqual(BATCH_READ_BYTES);
  });
});

describe("one reconciler chain at a time", () => {
  test("a sweep that starts while the previous one still waits on a slow Temporal starts no second chain", async () => {
    const t = newBackend();
    const orders = [await orderIn(t, "running", 31 * MINUTE), await orderIn(t, "running", 31 * MINUTE)];
    for (const workOrderId of orders) {
      fake.temporal.setStatus(workOrderId, "RUNNING");
    }
    // Each answer takes 5 s: the first chain's page is still running when the next cron fires.
    fake.temporal.delayMs = 5_000;
    const logs: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => void logs.push(String(line)));
    await t.mutation(internal.reconcile.sweep, {});
    await vi.advanceTimersByTimeAsync(1_000);
    expect(fake.temporal.calls.length).toBeGreaterThan(0);

    await t.mutation(internal.reconcile.sweep, {});
    await vi.advanceTimersByTimeAsync(1_000);
    await settle(t);
    for (const workOrderId of orders) {
      expect(fake.temporal.calls.filter((request) => request.path.endsWith(`/${workOrderId}`))).toHaveLength(1);
      expect((await orderOf(t, workOrderId)).updatedAt).toBeGreaterThan(Date.now() - MINUTE);
    }
    expect(logs).toContain("reconcile: the previous stale sweep is still running; not starting another");

    // Once that chain is done, the next sweep runs one again.
    await t.run(async (ctx) => {
      for (const workOrderId of orders) {
        await ctx.db.patch("work_orders", workOrderId, { updatedAt: Date.now() - 31 * MINUTE });
      }
    });
    await reconcile(t);
    expect(fake.temporal.calls).toHaveLength(4);
  });

  test("a chain whose page died does not hold back the next sweep", async () => {
    const t = newBackend();
    const workOrderId = await orderIn(t, "running", 31 * MINUTE);
    fake.temporal.setStatus(workOrderId, "COMPLETED");
    await t.mutation(internal.reconcile.sweep, {});
    // The page is lost before it runs.
    await t.run(async (ctx) => {
      for (const job of await ctx.db.system.query("_scheduled_functions").collect()) {
        if (job.state.kind === "pending") {
          await ctx.scheduler.cancel(job._id);
        }
      }
    });
    await reconcile(t);
    expect((await orderOf(t, workOrderId)).status).toBe("succeeded");
  });
});
