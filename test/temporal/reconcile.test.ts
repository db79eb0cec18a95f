import { convexToJson, type Value } from "convex/values";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { LIMITS } from "../../src/limits";
import type { ExecutionStatus } from "../../src/temporal/client";
import { newBackend, type Backend } from "../helpers/backend";
import { asService, asUser } from "../helpers/callers";
import { seedOrders } from "../helpers/workOrders";
import { expectConvexError, expectNothingWritten } from "../helpers/assertions";
import { newSession, newWorkOrder, statusHistory, statusOf, orderOf } from "../helpers/records";
import { withFakeClock, settle } from "../helpers/clock";
import { FakeTemporal, TEMPORAL_URL, type TemporalTrouble } from "../../fakes/temporal";

const MINUTE = 60 * 1000;
let temporal: FakeTemporal;

withFakeClock();
beforeEach(() => {
  temporal = new FakeTemporal({ namespace: "jangar-prod", apiKey: "tmprl_api_key" });
  vi.stubGlobal("fetch", temporal.fetch);
  vi.stubEnv("TEMPORAL_HTTP_URL", TEMPORAL_URL);
  vi.stubEnv("TEMPORAL_NAMESPACE", "jangar-prod");
  vi.stubEnv("TEMPORAL_API_KEY", "tmprl_api_key");
});
afterEach(() => {
  expect(temporal.violations).toEqual([]);
});

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
    temporal.setStatus(workOrderId, execution);
    await reconcile(t);

    expect((await orderOf(t, workOrderId)).status).toBe(to);
    expect((await statusHistory(t, workOrderId)).at(-1)).toMatchObject({
      from,
      to,
      source: "reconcile",
      reason: `WORKFLOW_EXECUTION_STATUS_${execution}`,
      actor: "reconciler",
    });
    expect(temporal.calls).toEqual([
      expect.objectContaining({ method: "GET", path: `/api/v1/namespaces/jangar-prod/workflows/${workOrderId}` }),
    ]);
  });

  test.each(["RUNNING", "CONTINUED_AS_NEW"] as const)(
    "Temporal says %s: a stale running order is refreshed, with no history row",
    async (execution) => {
      const t = newBackend();
      const workOrderId = await orderIn(t, "running", 31 * MINUTE);
      temporal.setStatus(workOrderId, execution);
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
      temporal.setStatus(workOrderId, "COMPLETED");
      temporal.answerAlways(mode);
      const before = await orderOf(t, workOrderId);
      const history = await statusHistory(t, workOrderId);
      await reconcile(t);
      expect(await orderOf(t, workOrderId)).toEqual(before);
      expect(await statusHistory(t, workOrderId)).toEqual(history);

      temporal.answerNormally();
      await reconcile(t);
      expect((await orderOf(t, workOrderId)).status).toBe("succeeded");
    },
  );

  test("Temporal hanging: the call is abandoned after its timeout and nothing changes", async () => {
    const t = newBackend();
    const workOrderId = await orderIn(t, "running", 31 * MINUTE);
    temporal.setStatus(workOrderId, "COMPLETED");
    temporal.answerAlways("hang");
    const before = await orderOf(t, workOrderId);
    const page = t.action(internal.reconcile.checkPage, { phase: "running", cursor: null, cutoff: Date.now() - 30 * MINUTE });
    await vi.advanceTimersByTimeAsync(10_000);
    await page;
    expect(await orderOf(t, workOrderId)).toEqual(before);
    expect(temporal.calls).toHaveLength(1);
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
    temporal.setStatus(stale, "RUNNING");
    await reconcile(t);
    expect(temporal.calls.map((request) => request.path)).toEqual([
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
    expect(temporal.calls).toEqual([]);
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

    expect(temporal.calls).toHaveLength(1);
    const [request] = temporal.calls;
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
    temporal.setStatus(workOrderId, "RUNNING");
    await asUser(t, "alice").mutation(api.workOrders.updateStatus, { workOrderId, status: "submitted" });
    await settle(t);
    expect((await orderOf(t, workOrderId)).status).toBe("accepted");
    expect((await statusHistory(t, workOrderId)).at(-1)).toMatchObject({ reason: "workflow already started" });
  });

  test.each(["invalidArgument", "tooLarge"] as const)(
    "Temporal refuses the launch request (%s): the order fails at once with Temporal's reason, and is not sent again",
    async (mode) => {
      const t = newBackend();
      temporal.answerAlways(mode);
      const workOrderId = await newWorkOrder(t, await newSession(t, "alice"));
      await settle(t);
      expect((await orderOf(t, workOrderId)).status).toBe("failed");
      expect((await statusHistory(t, workOrderId)).at(-1)).toMatchObject({
        from: "submitted",
        to: "failed",
        source: "reconcile",
        reason: mode === "invalidArgument"
          ? "Temporal refused the launch (400): Blob data size exceeds limit."
          : expect.stringMatching(/^Temporal refused the launch \(413\): .*Too Large/),
      });

      temporal.answerNormally();
      vi.advanceTimersByTime(6 * MINUTE);
      await reconcile(t);
      expect(temporal.calls.filter((request) => request.method === "POST")).toHaveLength(1);
    },
  );

  const deploymentTrouble: TemporalTrouble[] = [
    "unauthorized",
    "forbidden",
    "namespaceMissing",
    "rateLimited",
    "error500",
    "error503",
    "proxyBadRequest",
    "unreachable",
    "hang",
  ];
  test.each(deploymentTrouble)(
    "Temporal answers the launch with %s: the order stays submitted, with no history row, and is launched once Temporal takes it",
    async (mode) => {
      const t = newBackend();
      temporal.answerAlways(mode);
      const workOrderId = await newWorkOrder(t, await newSession(t, "alice"));
      const history = await statusHistory(t, workOrderId);
      await settle(t);
      expect((await orderOf(t, workOrderId)).status).toBe("submitted");
      expect(await statusHistory(t, workOrderId)).toEqual(history);

      temporal.answerNormally();
      vi.advanceTimersByTime(6 * MINUTE);
      await reconcile(t);
      expect((await orderOf(t, workOrderId)).status).toBe("accepted");
    },
  );

  test("a failed launch leaves the order submitted; the reconciler launches it again later", async () => {
    const t = newBackend();
    temporal.answerAlways("error500");
    const workOrderId = await newWorkOrder(t, await newSession(t, "alice"));
    await settle(t);
    expect((await orderOf(t, workOrderId)).status).toBe("submitted");

    temporal.answerNormally();
    await reconcile(t);
    expect((await orderOf(t, workOrderId)).status).toBe("submitted");
    vi.advanceTimersByTime(6 * MINUTE);
    await reconcile(t);
    expect((await orderOf(t, workOrderId)).status).toBe("accepted");
    expect(temporal.calls.filter((request) => request.method === "POST")).toHaveLength(2);
  });

  const convexValues: [string, unknown][] = [
    ["an int64", 5n],
    ["a bytes", new Uint8Array([1, 2, 255]).buffer],
    ["a NaN", Number.NaN],
    ["an Infinity", Number.POSITIVE_INFINITY],
    ["a -Infinity", Number.NEGATIVE_INFINITY],
    ["a -0", -0],
    ["a nested int64", { counts: [1n, 2], label: "x" }],
  ];
  test.each(convexValues)("an order with %s arg is launched, the value in Convex's JSON form", async (_kind, value) => {
    const t = newBackend();
    const workOrderId = await newWorkOrder(t, await newSession(t, "alice"), { args: [{ name: "v", value }] });
    await settle(t);
    expect((await orderOf(t, workOrderId)).status).toBe("accepted");
    const [request] = temporal.calls;
    expect(FakeTemporal.startInput(request.body)).toMatchObject({ args: [{ name: "v", value: convexToJson(value as Value) }] });
  });

  /** `count` orders submitted while Temporal is down, a second apart, made by `make`. */
  async function submittedWhileDown(t: Backend, count: number, make: () => Promise<Id<"work_orders">>) {
    temporal.answerAlways("error503");
    const ids = [];
    for (let i = 0; i < count; i += 1) {
      ids.push(await make());
      await vi.advanceTimersByTimeAsync(1000);
    }
    await settle(t);
    temporal.answerNormally();
    return ids;
  }

  test("orders with int64 args among the oldest submitted do not hold back the relaunch of the others", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const withInt64 = await submittedWhileDown(t, 10, () => newWorkOrder(t, sessionId, { args: [{ name: "n", value: 5n }] }));
    const others = await submittedWhileDown(t, 2, () => newWorkOrder(t, sessionId));
    vi.advanceTimersByTime(6 * MINUTE);
    await reconcile(t);
    for (const workOrderId of [...withInt64, ...others]) {
      expect((await orderOf(t, workOrderId)).status).toBe("accepted");
    }
  });

  test("an order whose launch throws is logged and left submitted; the launches of the others go on", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const target = { targetRepo: "acme/api", targetBranch: "main" };
    // Ten orders whose target reads as two rows: reading their launch input throws.
    const broken = await submittedWhileDown(t, 10, async () => {
      const workOrderId = await newWorkOrder(t, sessionId, { target });
      await t.run(async (ctx) => void (await ctx.db.insert("work_order_targets", { workOrderId, ...target })));
      return workOrderId;
    });
    const others = await submittedWhileDown(t, 2, () => newWorkOrder(t, sessionId));
    const errors: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: unknown) => void errors.push(String(line)));
    vi.advanceTimersByTime(6 * MINUTE);
    await reconcile(t);
    for (const workOrderId of others) {
      expect((await orderOf(t, workOrderId)).status).toBe("accepted");
    }
    for (const workOrderId of broken) {
      expect((await t.run(async (ctx) => await ctx.db.get("work_orders", workOrderId)))?.status).toBe("submitted");
      expect(errors).toContainEqual(expect.stringMatching(new RegExp(`^launch: work order ${workOrderId} stays submitted, its launch threw: .*unique`)));
    }
  });

  test("a run id of any length in Temporal's answer is kept bounded, and the order is accepted", async () => {
    const t = newBackend();
    temporal.runIdOf = () => "r".repeat(5000);
    const workOrderId = await newWorkOrder(t, await newSession(t, "alice"));
    await settle(t);
    expect((await orderOf(t, workOrderId)).status).toBe("accepted");
    const { reason } = (await statusHistory(t, workOrderId)).at(-1)!;
    expect(reason).toMatch(/^workflow started \(run r+…\)$/);
    expect(reason!.length).toBeLessThanOrEqual(200);
  });

  test("a draft is not launched", async () => {
    const t = newBackend();
    await newWorkOrder(t, await newSession(t, "alice"), { status: "draft" });
    await settle(t);
    expect(temporal.calls).toEqual([]);
  });

  test("without TEMPORAL_TASK_QUEUE nothing is launched: another launcher owns it", async () => {
    vi.stubEnv("TEMPORAL_TASK_QUEUE", "");
    const t = newBackend();
    const workOrderId = await newWorkOrder(t, await newSession(t, "alice"));
    await settle(t);
    vi.advanceTimersByTime(6 * MINUTE);
    await reconcile(t);
    expect(temporal.calls.filter((request) => request.method === "POST")).toEqual([]);
    expect((await orderOf(t, workOrderId)).status).toBe("submitted");
  });
});

describe("canceling an order stops its workflow", () => {
  const cancelPath = (workOrderId: string) => `/api/v1/namespaces/jangar-prod/workflows/${workOrderId}/cancel`;

  /** An order whose workflow runs on Temporal, in `status`. */
  async function runningOrder(t: Backend, status: "accepted" | "running") {
    const workOrderId = await orderIn(t, status, 0);
    temporal.setStatus(workOrderId, "RUNNING");
    return workOrderId;
  }

  test.each([
    ["accepted", "its user", (t: Backend) => asUser(t, "alice"), "user:alice"],
    ["running", "its user", (t: Backend) => asUser(t, "alice"), "user:alice"],
    ["running", "Jangar's server", (t: Backend) => asService(t), "service:jangar-server"],
  ] as const)("an %s order canceled by %s: Temporal is asked once to cancel its workflow, and the order's status is left as it is", async (status, _who, caller, actor) => {
    const t = newBackend();
    const workOrderId = await runningOrder(t, status);
    await caller(t).mutation(api.workOrders.updateStatus, { workOrderId, status: "canceled", reason: "not needed" });
    const history = await statusHistory(t, workOrderId);
    await settle(t);

    const cancels = temporal.calls.filter((request) => request.path.endsWith("/cancel"));
    expect(cancels).toHaveLength(1);
    expect(cancels[0]).toMatchObject({
      method: "POST",
      path: cancelPath(workOrderId),
      body: {
        namespace: "jangar-prod",
        workflowExecution: { workflowId: workOrderId },
        identity: "jangar-persistence",
        requestId: `cancel-${workOrderId}`,
        reason: expect.stringMatching(/^Jangar work order canceled by .+: not needed$/),
      },
    });
    expect((cancels[0].body as { reason: string }).reason).toContain(actor.split(":")[0]);
    expect(temporal.statusOf(workOrderId)).toBe("CANCELED");
    expect((await orderOf(t, workOrderId)).status).toBe("canceled");
    expect(await statusHistory(t, workOrderId)).toEqual(history);
  });

  test.each(["error500", "error503", "rateLimited", "unreachable", "hang", "unauthorized", "namespaceMissing"] as const)(
    "Temporal answering %s: the cancel is asked again with backoff until Temporal takes it; the order never changes",
    async (mode) => {
      const t = newBackend();
      const workOrderId = await runningOrder(t, "running");
      temporal.answerNext(mode, mode);
      vi.spyOn(console, "warn").mockImplementation(() => {});
      await asUser(t, "alice").mutation(api.workOrders.updateStatus, { workOrderId, status: "canceled" });
      const history = await statusHistory(t, workOrderId);
      await settle(t);
      expect(temporal.cancelRequests).toEqual([workOrderId, workOrderId, workOrderId]);
      expect(temporal.statusOf(workOrderId)).toBe("CANCELED");
      expect(await statusHistory(t, workOrderId)).toEqual(history);
    },
  );

  test("Temporal down for good: the cancel is asked six times over hours, then given up with an error naming the order; the order stays canceled", async () => {
    const t = newBackend();
    const workOrderId = await runningOrder(t, "running");
    temporal.answerAlways("error503");
    const errors: string[] = [];
    vi.spyOn(console, "warn").mockImplementation(() => {});
    vi.spyOn(console, "error").mockImplementation((line: unknown) => void errors.push(String(line)));
    await asUser(t, "alice").mutation(api.workOrders.updateStatus, { workOrderId, status: "canceled" });
    await settle(t);
    expect(temporal.cancelRequests).toHaveLength(6);
    expect(errors).toContainEqual(expect.stringMatching(new RegExp(`^cancel: work order ${workOrderId}: gave up after 6 attempts`)));
    expect((await orderOf(t, workOrderId)).status).toBe("canceled");
  });

  test.each([
    ["not known to Temporal", undefined],
    ["whose run already completed", "COMPLETED"],
  ] as const)("a workflow %s has nothing to cancel: asked once, not again", async (_label, execution) => {
    const t = newBackend();
    const workOrderId = await orderIn(t, "running", 0);
    if (execution !== undefined) temporal.setStatus(workOrderId, execution);
    await asUser(t, "alice").mutation(api.workOrders.updateStatus, { workOrderId, status: "canceled" });
    await settle(t);
    expect(temporal.cancelRequests).toEqual([workOrderId]);
    expect(temporal.statusOf(workOrderId)).toBe(execution);
  });

  test("a cancel request Temporal refuses as invalid is not sent again, and is logged", async () => {
    const t = newBackend();
    const workOrderId = await runningOrder(t, "running");
    temporal.answerAlways("invalidArgument");
    const errors: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: unknown) => void errors.push(String(line)));
    await asUser(t, "alice").mutation(api.workOrders.updateStatus, { workOrderId, status: "canceled" });
    await settle(t);
    expect(temporal.cancelRequests).toEqual([workOrderId]);
    expect(errors).toContainEqual(expect.stringContaining("Temporal refused the cancel request (400)"));
  });

  test("a draft, or an order already final, is not asked about; without TEMPORAL_HTTP_URL nothing is sent", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const draft = await newWorkOrder(t, sessionId, { status: "draft" });
    await asUser(t, "alice").mutation(api.workOrders.updateStatus, { workOrderId: draft, status: "canceled" });
    const failed = await runningOrder(t, "running");
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId: failed, status: "failed" });
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId: failed, status: "canceled" }).catch(() => null);
    vi.stubEnv("TEMPORAL_HTTP_URL", "");
    const running = await runningOrder(t, "running");
    await asUser(t, "alice").mutation(api.workOrders.updateStatus, { workOrderId: running, status: "canceled" });
    await settle(t);
    expect(temporal.cancelRequests).toEqual([]);
  });

  describe("with the launcher on", () => {
    beforeEach(() => {
      vi.stubEnv("TEMPORAL_TASK_QUEUE", "codex-agents");
    });

    test("an order canceled while its workflow is being started: the workflow just started is asked to cancel", async () => {
      const t = newBackend();
      temporal.onStart = async (workflowId) => {
        temporal.onStart = undefined;
        await asUser(t, "alice").mutation(api.workOrders.updateStatus, { workOrderId: workflowId as Id<"work_orders">, status: "canceled" });
      };
      const workOrderId = await newWorkOrder(t, await newSession(t, "alice"));
      await settle(t);
      expect((await orderOf(t, workOrderId)).status).toBe("canceled");
      const start = temporal.calls.findIndex((request) => request.method === "POST" && request.path.endsWith(workOrderId));
      expect(temporal.calls.slice(start + 1).map((request) => request.path)).toContain(cancelPath(workOrderId));
      expect(temporal.statusOf(workOrderId)).toBe("CANCELED");
    });

    test("the launch's record, finding its order canceled after the cancel request found no workflow yet, asks again", async () => {
      const t = newBackend();
      temporal.answerAlways("error503");
      const workOrderId = await newWorkOrder(t, await newSession(t, "alice"));
      await settle(t);
      temporal.answerNormally();
      // Canceled while still submitted: Temporal has no workflow of it yet.
      await asUser(t, "alice").mutation(api.workOrders.updateStatus, { workOrderId, status: "canceled" });
      await settle(t);
      expect(temporal.cancelRequests).toEqual([workOrderId]);
      // Then a start that was under way reaches Temporal, and its launch is recorded.
      temporal.setStatus(workOrderId, "RUNNING");
      await t.mutation(internal.launcher.markLaunched, { workOrderId, to: "accepted", reason: "workflow started (run r1)" });
      await settle(t);
      expect(temporal.cancelRequests).toEqual([workOrderId, workOrderId]);
      expect(temporal.statusOf(workOrderId)).toBe("CANCELED");
      expect((await orderOf(t, workOrderId)).status).toBe("canceled");
    });
  });
});

describe("workflow types (JANGAR_WORKFLOW_TYPES)", () => {
  beforeEach(() => {
    vi.stubEnv("TEMPORAL_TASK_QUEUE", "codex-agents");
  });

  function createAs(caller: ReturnType<typeof asService>, sessionId: Id<"chat_sessions">, workflowType: string) {
    return caller.mutation(api.workOrders.create, { sessionId, workflowType, prompt: "Rotate them.", title: "Rotate" });
  }

  test("set: an unlisted workflowType is INVALID_ARGUMENT naming the allowed ones, for users and services alike, and nothing is written", async () => {
    vi.stubEnv("JANGAR_WORKFLOW_TYPES", " codex-implement, codex-review ,");
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    for (const caller of [asUser(t, "alice"), asService(t)]) {
      await expectNothingWritten(t, async () => {
        const error = await expectConvexError(createAs(caller, sessionId, "adminRotateAllSecrets"), "INVALID_ARGUMENT");
        expect(error.message).toBe(
          'workflowType "adminRotateAllSecrets" is not one this deployment runs: JANGAR_WORKFLOW_TYPES allows codex-implement, codex-review.',
        );
      });
    }
    const listed = await createAs(asUser(t, "alice"), sessionId, "codex-review");
    await settle(t);
    expect((await orderOf(t, listed)).status).toBe("accepted");
  });

  test("with JANGAR_WORKFLOW_TYPES unset, an order of any workflow type is created", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const workOrderId = await createAs(asUser(t, "alice"), sessionId, "anything-at-all");
    expect((await orderOf(t, workOrderId)).workflowType).toBe("anything-at-all");
  });

  test("the launcher never starts an unlisted type: an order created before the list was set fails, naming JANGAR_WORKFLOW_TYPES, and later sweeps leave it be", async () => {
    const t = newBackend();
    vi.stubEnv("TEMPORAL_TASK_QUEUE", "");
    const legacy = await createAs(asService(t), await newSession(t, "alice"), "adminRotateAllSecrets");
    vi.stubEnv("TEMPORAL_TASK_QUEUE", "codex-agents");
    vi.stubEnv("JANGAR_WORKFLOW_TYPES", "codex-implement");
    const warnings: string[] = [];
    vi.spyOn(console, "warn").mockImplementation((line: unknown) => void warnings.push(String(line)));

    vi.advanceTimersByTime(6 * MINUTE);
    await reconcile(t);
    expect(temporal.calls).toEqual([]);
    const reason = 'workflowType "adminRotateAllSecrets" is not one this deployment runs: JANGAR_WORKFLOW_TYPES allows codex-implement.';
    expect((await orderOf(t, legacy)).status).toBe("failed");
    expect((await statusHistory(t, legacy)).at(-1)).toMatchObject({ from: "submitted", to: "failed", source: "reconcile", reason });
    expect(warnings).toContain(`launch: work order ${legacy} fails, not launched: ${reason}`);

    // Failed, it is no longer among the submitted orders a sweep reads.
    vi.advanceTimersByTime(6 * MINUTE);
    await reconcile(t);
    expect(warnings).toHaveLength(1);
    expect(temporal.calls).toEqual([]);
  });

  test("a long JANGAR_WORKFLOW_TYPES list makes a reason that is kept within bounds", async () => {
    const t = newBackend();
    vi.stubEnv("TEMPORAL_TASK_QUEUE", "");
    const legacy = await createAs(asService(t), await newSession(t, "alice"), "retired");
    vi.stubEnv("TEMPORAL_TASK_QUEUE", "codex-agents");
    vi.stubEnv("JANGAR_WORKFLOW_TYPES", Array.from({ length: 400 }, (_, i) => `codex-type-${i}`).join(","));
    vi.advanceTimersByTime(6 * MINUTE);
    await reconcile(t);
    expect((await orderOf(t, legacy)).status).toBe("failed");
    expect((await statusHistory(t, legacy)).at(-1)!.reason).toMatch(/^workflowType "retired" is not one .*…$/);
  });
});

describe("launch input bound (1 MiB)", () => {
  const KiB = 1024;
  /** `count` args of 60,000 characters each. */
  function bigArgs(count: number, from = 0) {
    return Array.from({ length: count }, (_, i) => ({ name: `part-${from + i}`, value: "x".repeat(60_000) }));
  }
  const prompt = "p".repeat(250 * KiB);

  /** Alice's order with the big prompt and 13 big args: close under the 1 MiB bound. */
  async function bigOrder(t: Backend) {
    const sessionId = await newSession(t, "alice");
    const args = bigArgs(13);
    return await asService(t).mutation(api.workOrders.create, { sessionId, workflowType: "codex-implement", prompt, title: "Big", args });
  }

  test("workOrders:create refuses an order whose launch input would exceed 1 MiB, naming the size; just under is taken", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const create = (args: { name: string; value: unknown }[]) =>
      asService(t).mutation(api.workOrders.create, { sessionId, workflowType: "codex-implement", prompt, title: "Big", args });
    await expectNothingWritten(t, async () => {
      const error = await expectConvexError(create(bigArgs(14)), "INVALID_ARGUMENT");
      expect(error.message).toMatch(/launch input \(prompt, args and target as JSON\) would be 10\d{5} bytes; the limit is 1048576 \(1 MiB\)/);
    });
    const workOrderId = await create(bigArgs(13));
    expect((await orderOf(t, workOrderId)).args).toHaveLength(13);
  });

  test("workOrderArgs:upsert refuses an arg that would take the launch input past 1 MiB; replacing an arg counts it once", async () => {
    const t = newBackend();
    const workOrderId = await bigOrder(t);
    await expectNothingWritten(t, async () => {
      const error = await expectConvexError(
        asUser(t, "alice").mutation(api.workOrderArgs.upsert, { workOrderId, ...bigArgs(1, 13)[0] }),
        "INVALID_ARGUMENT",
      );
      expect(error.message).toMatch(/would be 10\d{5} bytes; the limit is 1048576/);
    });
    await asUser(t, "alice").mutation(api.workOrderArgs.upsert, { workOrderId, name: "part-0", value: "y".repeat(60_000) });
    const order = await orderOf(t, workOrderId);
    expect(order.args.find((arg) => arg.name === "part-0")?.value).toBe("y".repeat(60_000));
  });
  test("workOrderTargets:upsert refuses a target that would take the launch input past 1 MiB, and writes nothing", async () => {
    const t = newBackend();
    const workOrderId = await bigOrder(t);
    // An arg that leaves 300 bytes of the 1 MiB: less than a long target takes.
    const launchInput = { workOrderId, prompt, args: [...bigArgs(13), { name: "filler", value: "" }], target: null };
    const room = 1024 * 1024 - new TextEncoder().encode(JSON.stringify(launchInput)).length;
    await asUser(t, "alice").mutation(api.workOrderArgs.upsert, { workOrderId, name: "filler", value: "z".repeat(room - 300) });
    const target = { targetRepo: `acme/${"r".repeat(400)}`, targetBranch: "b".repeat(250) };
    await expectNothingWritten(t, async () => {
      const error = await expectConvexError(
        asUser(t, "alice").mutation(api.workOrderTargets.upsert, { workOrderId, ...target }),
        "INVALID_ARGUMENT",
      );
      expect(error.message).toMatch(/would be 10\d{5} bytes; the limit is 1048576/);
    });
    await asUser(t, "alice").mutation(api.workOrderTargets.upsert, { workOrderId, targetRepo: "acme/api", targetBranch: "main" });
    expect((await orderOf(t, workOrderId)).target).toEqual({ targetRepo: "acme/api", targetBranch: "main" });
  });
});

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
      temporal.setStatus(workOrderId, "RUNNING");
    }
    const costs = pageCosts("reconciled");
    await reconcile(t);
    for (const workOrderId of orders) {
      expect(await orderOf(t, workOrderId)).toMatchObject({ status: "running", updatedAt: Date.now() });
    }
    expect(temporal.calls).toHaveLength(LARGE);
    expect(costs.length).toBeGreaterThan(1);
    expect(Math.max(...costs.map((cost) => cost.bytesRead))).toBeLessThanOrEqual(BATCH_READ_BYTES);
  });
});

describe("one reconciler chain at a time", () => {
  test("a sweep that starts while the previous one still waits on a slow Temporal starts no second chain", async () => {
    const t = newBackend();
    const orders = [await orderIn(t, "running", 31 * MINUTE), await orderIn(t, "running", 31 * MINUTE)];
    for (const workOrderId of orders) {
      temporal.setStatus(workOrderId, "RUNNING");
    }
    // Each answer takes 5 s: the first chain's page is still running when the next cron fires.
    temporal.delayMs = 5_000;
    const logs: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => void logs.push(String(line)));
    await t.mutation(internal.reconcile.sweep, {});
    await vi.advanceTimersByTimeAsync(1_000);
    expect(temporal.calls.length).toBeGreaterThan(0);

    await t.mutation(internal.reconcile.sweep, {});
    await vi.advanceTimersByTimeAsync(1_000);
    await settle(t);
    for (const workOrderId of orders) {
      expect(temporal.calls.filter((request) => request.path.endsWith(`/${workOrderId}`))).toHaveLength(1);
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
    expect(temporal.calls).toHaveLength(4);
  });

  test("a chain whose page died does not hold back the next sweep", async () => {
    const t = newBackend();
    const workOrderId = await orderIn(t, "running", 31 * MINUTE);
    temporal.setStatus(workOrderId, "COMPLETED");
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
