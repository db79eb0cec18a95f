import { beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { ExecutionStatus } from "../../src/temporal/client";
import { newBackend } from "../helpers/backend";
import { asService } from "../helpers/callers";
import { statusHistory, orderOf } from "../helpers/records";
import { MINUTE, withFakeClock } from "../helpers/clock";
import { orderIn, reconcile, withFakeTemporal } from "../helpers/temporal";

withFakeClock();
const fake = withFakeTemporal();

describe("reconciling stale orders with Temporal", () => {
  const moves: [ExecutionStatus, "accepted" | "running", string][] = [
    ["RUNNING", "accepted", "running"],
    ["CONTINUED_AS_NEW", "accepted", "running"],
    ["COMPLETED", "accepted", "succeeded"],
    ["COMPLETED", "running", "succeeded"],
    ["FAILED", "running", "failed"],
    ["TIMED_OUT", "running", "failed"],
    ["TERMINATED", "accepted", "failed"],
    ["CANCELED", "running", "canceled"],
  ];
  test.each(moves)("Temporal says %s: a stale %s order becomes %s, recorded with Temporal's status", async (execution, from, to) => {
    const t = newBackend();
    const workOrderId = await orderIn(t, from, 31 * MINUTE);
    fake.temporal.setStatus(workOrderId, execution);
    await reconcile(t);

    expect((await orderOf(t, workOrderId)).status).toBe(to);
    expect((await statusHistory(t, workOrderId)).at(-1)).toMatchObject({
      from,
      to,
      source: "reconcile",
      reason: `WORKFLOW_EXECUTION_STATUS_${execution}`,
      actor: "reconciler",
    });
    expect(fake.temporal.calls).toEqual([
      expect.objectContaining({ method: "GET", path: `/api/v1/namespaces/jangar-prod/workflows/${workOrderId}` }),
    ]);
  });

  test.each(["RUNNING", "CONTINUED_AS_NEW"] as const)(
    "Temporal says %s: a stale running order is refreshed, with no history row",
    async (execution) => {
      const t = newBackend();
      const workOrderId = await orderIn(t, "running", 31 * MINUTE);
      fake.temporal.setStatus(workOrderId, execution);
      const history = await statusHistory(t, workOrderId);
      await reconcile(t);
      const order = await orderOf(t, workOrderId);
      expect(order.status).toBe("running");
      expect(order.updatedAt).toBe(Date.now());
      expect(await statusHistory(t, workOrderId)).toEqual(history);
    },
  );

  test("a workflow Temporal does not know fails the order with that reason", async () => {
    const t = newBackend();
    const workOrderId = await orderIn(t, "running", 31 * MINUTE);
    await reconcile(t);
    expect((await orderOf(t, workOrderId)).status).toBe("failed");
    expect((await statusHistory(t, workOrderId)).at(-1)).toMatchObject({
      to: "failed",
      reason: "workflow not found in Temporal",
    });
  });

  test.each(["error500", "malformed", "unreachable", "namespaceMissing"] as const)(
    "Temporal %s: nothing changes, and the next run tries again",
    async (mode) => {
      const t = newBackend();
      const workOrderId = await orderIn(t, "running", 31 * MINUTE);
      fake.temporal.setStatus(workOrderId, "COMPLETED");
      fake.temporal.answerAlways(mode);
      const before = await orderOf(t, workOrderId);
      const history = await statusHistory(t, workOrderId);
      await reconcile(t);
      expect(await orderOf(t, workOrderId)).toEqual(before);
      expect(await statusHistory(t, workOrderId)).toEqual(history);

      fake.temporal.answerNormally();
      await reconcile(t);
      expect((await orderOf(t, workOrderId)).status).toBe("succeeded");
    },
  );

  test("Temporal hanging: the call is abandoned after its timeout and nothing changes", async () => {
    const t = newBackend();
    const workOrderId = await orderIn(t, "running", 31 * MINUTE);
    fake.temporal.setStatus(workOrderId, "COMPLETED");
    fake.temporal.answerAlways("hang");
    const before = await orderOf(t, workOrderId);
    const page = t.action(internal.reconcile.checkPage, { phase: "running", cursor: null, cutoff: Date.now() - 30 * MINUTE });
    await vi.advanceTimersByTimeAsync(10_000);
    await page;
    expect(await orderOf(t, workOrderId)).toEqual(before);
    expect(fake.temporal.calls).toHaveLength(1);
  });

  test("orders touched within STALE_AFTER_MS, and orders in other statuses, are not asked about", async () => {
    vi.stubEnv("STALE_AFTER_MS", String(10 * MINUTE));
    const t = newBackend();
    const stale = await orderIn(t, "running", 11 * MINUTE);
    await orderIn(t, "running", 9 * MINUTE);
    await orderIn(t, "submitted", 60 * MINUTE);
    const done = await orderIn(t, "running", 60 * MINUTE);
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId: done, status: "succeeded" });
    await t.run(async (ctx) => await ctx.db.patch("work_orders", done, { updatedAt: Date.now() - 60 * MINUTE }));
    fake.temporal.setStatus(stale, "RUNNING");
    await reconcile(t);
    expect(fake.temporal.calls.map((request) => request.path)).toEqual([
      `/api/v1/namespaces/jangar-prod/workflows/${stale}`,
    ]);
  });

  test("a webhook that moved the order on meanwhile wins: nothing goes backward", async () => {
    const t = newBackend();
    const workOrderId = await orderIn(t, "running", 31 * MINUTE);
    // The reconciler read the page; then a merge webhook finished the order.
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: "succeeded" });
    const after = await orderOf(t, workOrderId);
    const history = await statusHistory(t, workOrderId);
    await t.mutation(internal.reconcile.applyDescriptions, {
      phase: "running",
      descriptions: [
        { workOrderId, described: { kind: "found", status: "FAILED" } },
        { workOrderId, described: { kind: "found", status: "RUNNING" } },
      ],
    });
    expect(await orderOf(t, workOrderId)).toEqual(after);
    expect(await statusHistory(t, workOrderId)).toEqual(history);
  });
});

describe("without Temporal", () => {
  beforeEach(() => {
    vi.stubEnv("TEMPORAL_HTTP_URL", "");
  });

  test("orders stale past STALE_FAIL_AFTER_MS fail with reason stale; younger ones are left alone", async () => {
    const t = newBackend();
    const old = await orderIn(t, "running", 25 * 60 * MINUTE);
    const oldAccepted = await orderIn(t, "accepted", 25 * 60 * MINUTE);
    const younger = await orderIn(t, "running", 2 * 60 * MINUTE);
    await reconcile(t);
    for (const workOrderId of [old, oldAccepted]) {
      expect((await orderOf(t, workOrderId)).status).toBe("failed");
      expect((await statusHistory(t, workOrderId)).at(-1)).toMatchObject({ to: "failed", reason: "stale", source: "reconcile" });
    }
    expect((await orderOf(t, younger)).status).toBe("running");
    expect(fake.temporal.calls).toEqual([]);
  });

  test("an order is failed only once it is stale (STALE_AFTER_MS) as well", async () => {
    vi.stubEnv("STALE_FAIL_AFTER_MS", String(10 * MINUTE));
    const t = newBackend();
    const quiet = await orderIn(t, "running", 15 * MINUTE);
    const stale = await orderIn(t, "running", 31 * MINUTE);
    await reconcile(t);
    expect((await orderOf(t, quiet)).status).toBe("running");
    expect((await orderOf(t, stale)).status).toBe("failed");
  });

  test("with STALE_FAIL_AFTER_MS at 60 minutes, a running order quiet for 61 minutes fails", async () => {
    vi.stubEnv("STALE_FAIL_AFTER_MS", String(60 * MINUTE));
    const t = newBackend();
    const workOrderId = await orderIn(t, "running", 61 * MINUTE);
    await reconcile(t);
    expect((await orderOf(t, workOrderId)).status).toBe("failed");
  });
});
