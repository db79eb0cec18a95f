import { beforeEach, describe, expect, test, vi } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { newBackend } from "../helpers/backend";
import { asService, asUser } from "../helpers/callers";
import { expectConvexError, expectNothingWritten } from "../helpers/assertions";
import { newSession, statusHistory, orderOf } from "../helpers/records";
import { MINUTE, withFakeClock, settle } from "../helpers/clock";
import { reconcile, withFakeTemporal } from "../helpers/temporal";

withFakeClock();
const fake = withFakeTemporal();

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
    expect(fake.temporal.calls).toEqual([]);
    const reason = 'workflowType "adminRotateAllSecrets" is not one this deployment runs: JANGAR_WORKFLOW_TYPES allows codex-implement.';
    expect((await orderOf(t, legacy)).status).toBe("failed");
    expect((await statusHistory(t, legacy)).at(-1)).toMatchObject({ from: "submitted", to: "failed", source: "reconcile", reason });
    expect(warnings).toContain(`launch: work order ${legacy} fails, not launched: ${reason}`);

    // Failed, it is no longer among the submitted orders a sweep reads.
    vi.advanceTimersByTime(6 * MINUTE);
    await reconcile(t);
    expect(warnings).toHaveLength(1);
    expect(fake.temporal.calls).toEqual([]);
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
