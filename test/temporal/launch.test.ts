import { convexToJson, type Value } from "convex/values";
import { beforeEach, describe, expect, test, vi } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { newBackend, type Backend } from "../helpers/backend";
import { asUser } from "../helpers/callers";
import { newSession, newWorkOrder, statusHistory, orderOf } from "../helpers/records";
import { MINUTE, withFakeClock, settle } from "../helpers/clock";
import { FakeTemporal, type TemporalTrouble } from "../../fakes/temporal";
import { reconcile, withFakeTemporal } from "../helpers/temporal";

withFakeClock();
const fake = withFakeTemporal();

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

    expect(fake.temporal.calls).toHaveLength(1);
    const [request] = fake.temporal.calls;
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
    fake.temporal.setStatus(workOrderId, "RUNNING");
    await asUser(t, "alice").mutation(api.workOrders.updateStatus, { workOrderId, status: "submitted" });
    await settle(t);
    expect((await orderOf(t, workOrderId)).status).toBe("accepted");
    expect((await statusHistory(t, workOrderId)).at(-1)).toMatchObject({ reason: "workflow already started" });
  });

  test.each(["invalidArgument", "tooLarge"] as const)(
    "Temporal refuses the launch request (%s): the order fails at once with Temporal's reason, and is not sent again",
    async (mode) => {
      const t = newBackend();
      fake.temporal.answerAlways(mode);
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

      fake.temporal.answerNormally();
      vi.advanceTimersByTime(6 * MINUTE);
      await reconcile(t);
      expect(fake.temporal.calls.filter((request) => request.method === "POST")).toHaveLength(1);
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
      fake.temporal.answerAlways(mode);
      const workOrderId = await newWorkOrder(t, await newSession(t, "alice"));
      const history = await statusHistory(t, workOrderId);
      await settle(t);
      expect((await orderOf(t, workOrderId)).status).toBe("submitted");
      expect(await statusHistory(t, workOrderId)).toEqual(history);

      fake.temporal.answerNormally();
      vi.advanceTimersByTime(6 * MINUTE);
      await reconcile(t);
      expect((await orderOf(t, workOrderId)).status).toBe("accepted");
    },
  );

  test("a failed launch leaves the order submitted; the reconciler launches it again later", async () => {
    const t = newBackend();
    fake.temporal.answerAlways("error500");
    const workOrderId = await newWorkOrder(t, await newSession(t, "alice"));
    await settle(t);
    expect((await orderOf(t, workOrderId)).status).toBe("submitted");

    fake.temporal.answerNormally();
    await reconcile(t);
    expect((await orderOf(t, workOrderId)).status).toBe("submitted");
    vi.advanceTimersByTime(6 * MINUTE);
    await reconcile(t);
    expect((await orderOf(t, workOrderId)).status).toBe("accepted");
    expect(fake.temporal.calls.filter((request) => request.method === "POST")).toHaveLength(2);
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
    const [request] = fake.temporal.calls;
    expect(FakeTemporal.startInput(request.body)).toMatchObject({ args: [{ name: "v", value: convexToJson(value as Value) }] });
  });

  /** `count` orders submitted while Temporal is down, a second apart, made by `make`. */
  async function submittedWhileDown(t: Backend, count: number, make: () => Promise<Id<"work_orders">>) {
    fake.temporal.answerAlways("error503");
    const ids = [];
    for (let i = 0; i < count; i += 1) {
      ids.push(await make());
      await vi.advanceTimersByTimeAsync(1000);
    }
    await settle(t);
    fake.temporal.answerNormally();
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
    fake.temporal.runIdOf = () => "r".repeat(5000);
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
    expect(fake.temporal.calls).toEqual([]);
  });

  test("without TEMPORAL_TASK_QUEUE nothing is launched: another launcher owns it", async () => {
    vi.stubEnv("TEMPORAL_TASK_QUEUE", "");
    const t = newBackend();
    const workOrderId = await newWorkOrder(t, await newSession(t, "alice"));
    await settle(t);
    vi.advanceTimersByTime(6 * MINUTE);
    await reconcile(t);
    expect(fake.temporal.calls.filter((request) => request.method === "POST")).toEqual([]);
    expect((await orderOf(t, workOrderId)).status).toBe("submitted");
  });
});
