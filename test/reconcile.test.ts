import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../convex/_generated/api";
import type { Id } from "../convex/_generated/dataModel";
import type { ExecutionStatus } from "../src/temporal/client";
import { newBackend, type Backend } from "./backend";
import { asService, asUser } from "./callers";
import { newSession, newWorkOrder, statusHistory } from "./helpers";
import { FakeTemporal, TEMPORAL_URL } from "./temporal";

const MINUTE = 60 * 1000;
let temporal: FakeTemporal;

beforeEach(() => {
  vi.useFakeTimers();
  temporal = new FakeTemporal({ namespace: "jangar-prod", apiKey: "tmprl_api_key" });
  vi.stubGlobal("fetch", temporal.fetch);
  vi.stubEnv("TEMPORAL_HTTP_URL", TEMPORAL_URL);
  vi.stubEnv("TEMPORAL_NAMESPACE", "jangar-prod");
  vi.stubEnv("TEMPORAL_API_KEY", "tmprl_api_key");
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.unstubAllEnvs();
});

async function settle(t: Backend) {
  await t.finishAllScheduledFunctions(() => vi.runAllTimers());
}

/** A work order in `status`, last touched `ageMs` ago. */
async function orderIn(t: Backend, status: "submitted" | "accepted" | "running", ageMs: number) {
  const workOrderId = await newWorkOrder(t, await newSession(t, "alice"));
  for (const next of ["accepted", "running"] as const) {
    if (status === "submitted" || (status === "accepted" && next === "running")) break;
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: next });
  }
  await t.run(async (ctx) => await ctx.db.patch("work_orders", workOrderId, { updatedAt: Date.now() - ageMs }));
  return workOrderId;
}

async function orderOf(t: Backend, workOrderId: Id<"work_orders">) {
  return (await asService(t).query(api.workOrders.get, { workOrderId }))!;
}

/** One reconciler run: the cron's function, then every run it schedules. */
async function reconcile(t: Backend) {
  await t.mutation(internal.reconcile.sweep, {});
  await settle(t);
}

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
    temporal.executions.set(workOrderId, execution);
    await reconcile(t);

    expect((await orderOf(t, workOrderId)).status).toBe(to);
    expect((await statusHistory(t, workOrderId)).at(-1)).toMatchObject({
      from,
      to,
      source: "reconcile",
      reason: `WORKFLOW_EXECUTION_STATUS_${execution}`,
      actor: "reconciler",
    });
    expect(temporal.requests).toEqual([
      expect.objectContaining({ method: "GET", path: `/api/v1/namespaces/jangar-prod/workflows/${workOrderId}` }),
    ]);
  });

  test.each(["RUNNING", "CONTINUED_AS_NEW"] as const)(
    "Temporal says %s: a stale running order is refreshed, with no history row",
    async (execution) => {
      const t = newBackend();
      const workOrderId = await orderIn(t, "running", 31 * MINUTE);
      temporal.executions.set(workOrderId, execution);
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
      temporal.executions.set(workOrderId, "COMPLETED");
      temporal.mode = mode;
      const before = await orderOf(t, workOrderId);
      const history = await statusHistory(t, workOrderId);
      await reconcile(t);
      expect(await orderOf(t, workOrderId)).toEqual(before);
      expect(await statusHistory(t, workOrderId)).toEqual(history);

      temporal.mode = "normal";
      await reconcile(t);
      expect((await orderOf(t, workOrderId)).status).toBe("succeeded");
    },
  );

  test("Temporal hanging: the call is abandoned after its timeout and nothing changes", async () => {
    const t = newBackend();
    const workOrderId = await orderIn(t, "running", 31 * MINUTE);
    temporal.executions.set(workOrderId, "COMPLETED");
    temporal.mode = "hang";
    const before = await orderOf(t, workOrderId);
    const page = t.action(internal.reconcile.checkPage, { phase: "running", cursor: null, cutoff: Date.now() - 30 * MINUTE });
    await vi.advanceTimersByTimeAsync(10_000);
    await page;
    expect(await orderOf(t, workOrderId)).toEqual(before);
    expect(temporal.requests).toHaveLength(1);
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
    temporal.executions.set(stale, "RUNNING");
    await reconcile(t);
    expect(temporal.requests.map((request) => request.path)).toEqual([
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
    expect(temporal.requests).toEqual([]);
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

  test("STALE_FAIL_AFTER_MS is configurable", async () => {
    vi.stubEnv("STALE_FAIL_AFTER_MS", String(60 * MINUTE));
    const t = newBackend();
    const workOrderId = await orderIn(t, "running", 61 * MINUTE);
    await reconcile(t);
    expect((await orderOf(t, workOrderId)).status).toBe("failed");
  });
});

describe("launching submitted orders", () => {
  beforeEach(() => {
    vi.stubEnv("TEMPORAL_TASK_QUEUE", "codex-agents");
  });

  test("a submitted order starts its workflow with one json/plain input and becomes accepted", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const workOrderId = await newWorkOrder(t, sessionId, {
      args: [
        { name: "model", value: "gpt-5" },
        { name: "attempts", value: 3 },
      ],
      target: { targetRepo: "https://github.com/Acme/Api", targetBranch: "feature/sso" },
    });
    await settle(t);

    expect(temporal.requests).toHaveLength(1);
    const [request] = temporal.requests;
    expect(request).toMatchObject({ method: "POST", path: `/api/v1/namespaces/jangar-prod/workflows/${workOrderId}` });
    expect(request.body).toMatchObject({
      workflowId: workOrderId,
      workflowType: { name: "codex-implement" },
      taskQueue: { name: "codex-agents" },
      requestId: `launch-${workOrderId}`,
    });
    expect(FakeTemporal.startInput(request.body)).toEqual({
      workOrderId,
      prompt: "Make the login page accept SSO.",
      args: [
        { name: "attempts", value: 3 },
        { name: "model", value: "gpt-5" },
      ],
      target: { targetRepo: "acme/api", targetBranch: "feature/sso" },
    });
    expect((await orderOf(t, workOrderId)).status).toBe("accepted");
    expect((await statusHistory(t, workOrderId)).at(-1)).toMatchObject({
      from: "submitted",
      to: "accepted",
      source: "reconcile",
      reason: `workflow started (run run-of-${workOrderId})`,
    });
  });

  test("a workflow already started for the order also moves it to accepted", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const workOrderId = await newWorkOrder(t, sessionId, { status: "draft" });
    temporal.executions.set(workOrderId, "RUNNING");
    await asUser(t, "alice").mutation(api.workOrders.updateStatus, { workOrderId, status: "submitted" });
    await settle(t);
    expect((await orderOf(t, workOrderId)).status).toBe("accepted");
    expect((await statusHistory(t, workOrderId)).at(-1)).toMatchObject({ reason: "workflow already started" });
  });

  test("a failed launch leaves the order submitted; the reconciler launches it again later", async () => {
    const t = newBackend();
    temporal.mode = "error500";
    const workOrderId = await newWorkOrder(t, await newSession(t, "alice"));
    await settle(t);
    expect((await orderOf(t, workOrderId)).status).toBe("submitted");

    temporal.mode = "normal";
    await reconcile(t);
    expect((await orderOf(t, workOrderId)).status).toBe("submitted");
    vi.advanceTimersByTime(6 * MINUTE);
    await reconcile(t);
    expect((await orderOf(t, workOrderId)).status).toBe("accepted");
    expect(temporal.requests.filter((request) => request.method === "POST")).toHaveLength(2);
  });

  test("a draft is not launched", async () => {
    const t = newBackend();
    await newWorkOrder(t, await newSession(t, "alice"), { status: "draft" });
    await settle(t);
    expect(temporal.requests).toEqual([]);
  });

  test("without TEMPORAL_TASK_QUEUE nothing is launched: another launcher owns it", async () => {
    vi.stubEnv("TEMPORAL_TASK_QUEUE", "");
    const t = newBackend();
    const workOrderId = await newWorkOrder(t, await newSession(t, "alice"));
    await settle(t);
    vi.advanceTimersByTime(6 * MINUTE);
    await reconcile(t);
    expect(temporal.requests.filter((request) => request.method === "POST")).toEqual([]);
    expect((await orderOf(t, workOrderId)).status).toBe("submitted");
  });
});
