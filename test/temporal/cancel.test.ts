import { beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { newBackend, type Backend } from "../helpers/backend";
import { asService, asUser } from "../helpers/callers";
import { newSession, newWorkOrder, statusHistory, orderOf } from "../helpers/records";
import { withFakeClock, settle } from "../helpers/clock";
import { orderIn, withFakeTemporal } from "../helpers/temporal";

withFakeClock();
const fake = withFakeTemporal();

describe("canceling an order stops its workflow", () => {
  const cancelPath = (workOrderId: string) => `/api/v1/namespaces/jangar-prod/workflows/${workOrderId}/cancel`;

  /** An order whose workflow runs on Temporal, in `status`. */
  async function runningOrder(t: Backend, status: "accepted" | "running") {
    const workOrderId = await orderIn(t, status, 0);
    fake.temporal.setStatus(workOrderId, "RUNNING");
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

    const cancels = fake.temporal.calls.filter((request) => request.path.endsWith("/cancel"));
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
    expect(fake.temporal.statusOf(workOrderId)).toBe("CANCELED");
    expect((await orderOf(t, workOrderId)).status).toBe("canceled");
    expect(await statusHistory(t, workOrderId)).toEqual(history);
  });

  test.each(["error500", "error503", "rateLimited", "unreachable", "hang", "unauthorized", "namespaceMissing"] as const)(
    "Temporal answering %s: the cancel is asked again with backoff until Temporal takes it; the order never changes",
    async (mode) => {
      const t = newBackend();
      const workOrderId = await runningOrder(t, "running");
      fake.temporal.answerNext(mode, mode);
      vi.spyOn(console, "warn").mockImplementation(() => {});
      await asUser(t, "alice").mutation(api.workOrders.updateStatus, { workOrderId, status: "canceled" });
      const history = await statusHistory(t, workOrderId);
      await settle(t);
      expect(fake.temporal.cancelRequests).toEqual([workOrderId, workOrderId, workOrderId]);
      expect(fake.temporal.statusOf(workOrderId)).toBe("CANCELED");
      expect(await statusHistory(t, workOrderId)).toEqual(history);
    },
  );

  test("Temporal down for good: the cancel is asked six times over hours, then given up with an error naming the order; the order stays canceled", async () => {
    const t = newBackend();
    const workOrderId = await runningOrder(t, "running");
    fake.temporal.answerAlways("error503");
    const errors: string[] = [];
    vi.spyOn(console, "warn").mockImplementation(() => {});
    vi.spyOn(console, "error").mockImplementation((line: unknown) => void errors.push(String(line)));
    await asUser(t, "alice").mutation(api.workOrders.updateStatus, { workOrderId, status: "canceled" });
    await settle(t);
    expect(fake.temporal.cancelRequests).toHaveLength(6);
    expect(errors).toContainEqual(expect.stringMatching(new RegExp(`^cancel: work order ${workOrderId}: gave up after 6 attempts`)));
    expect((await orderOf(t, workOrderId)).status).toBe("canceled");
  });

  test.each([
    ["not known to Temporal", undefined],
    ["whose run already completed", "COMPLETED"],
  ] as const)("a workflow %s has nothing to cancel: asked once, not again", async (_label, execution) => {
    const t = newBackend();
    const workOrderId = await orderIn(t, "running", 0);
    if (execution !== undefined) fake.temporal.setStatus(workOrderId, execution);
    await asUser(t, "alice").mutation(api.workOrders.updateStatus, { workOrderId, status: "canceled" });
    await settle(t);
    expect(fake.temporal.cancelRequests).toEqual([workOrderId]);
    expect(fake.temporal.statusOf(workOrderId)).toBe(execution);
  });

  test("a cancel request Temporal refuses as invalid is not sent again, and is logged", async () => {
    const t = newBackend();
    const workOrderId = await runningOrder(t, "running");
    fake.temporal.answerAlways("invalidArgument");
    const errors: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: unknown) => void errors.push(String(line)));
    await asUser(t, "alice").mutation(api.workOrders.updateStatus, { workOrderId, status: "canceled" });
    await settle(t);
    expect(fake.temporal.cancelRequests).toEqual([workOrderId]);
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
    expect(fake.temporal.cancelRequests).toEqual([]);
  });

  describe("with the launcher on", () => {
    beforeEach(() => {
      vi.stubEnv("TEMPORAL_TASK_QUEUE", "codex-agents");
    });

    test("an order canceled while its workflow is being started: the workflow just started is asked to cancel", async () => {
      const t = newBackend();
      fake.temporal.onStart = async (workflowId) => {
        fake.temporal.onStart = undefined;
        await asUser(t, "alice").mutation(api.workOrders.updateStatus, { workOrderId: workflowId as Id<"work_orders">, status: "canceled" });
      };
      const workOrderId = await newWorkOrder(t, await newSession(t, "alice"));
      await settle(t);
      expect((await orderOf(t, workOrderId)).status).toBe("canceled");
      const start = fake.temporal.calls.findIndex((request) => request.method === "POST" && request.path.endsWith(workOrderId));
      expect(fake.temporal.calls.slice(start + 1).map((request) => request.path)).toContain(cancelPath(workOrderId));
      expect(fake.temporal.statusOf(workOrderId)).toBe("CANCELED");
    });

    test("the launch's record, finding its order canceled after the cancel request found no workflow yet, asks again", async () => {
      const t = newBackend();
      fake.temporal.answerAlways("error503");
      const workOrderId = await newWorkOrder(t, await newSession(t, "alice"));
      await settle(t);
      fake.temporal.answerNormally();
      // Canceled while still submitted: Temporal has no workflow of it yet.
      await asUser(t, "alice").mutation(api.workOrders.updateStatus, { workOrderId, status: "canceled" });
      await settle(t);
      expect(fake.temporal.cancelRequests).toEqual([workOrderId]);
      // Then a start that was under way reaches Temporal, and its launch is recorded.
      fake.temporal.setStatus(workOrderId, "RUNNING");
      await t.mutation(internal.launcher.markLaunched, { workOrderId, to: "accepted", reason: "workflow started (run r1)" });
      await settle(t);
      expect(fake.temporal.cancelRequests).toEqual([workOrderId, workOrderId]);
      expect(fake.temporal.statusOf(workOrderId)).toBe("CANCELED");
      expect((await orderOf(t, workOrderId)).status).toBe("canceled");
    });
  });
});
