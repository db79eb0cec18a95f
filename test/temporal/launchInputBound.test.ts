import { describe, expect, test } from "vitest";
import { api } from "../../convex/_generated/api";
import { newBackend, type Backend } from "../helpers/backend";
import { asService, asUser } from "../helpers/callers";
import { expectConvexError, expectNothingWritten } from "../helpers/assertions";
import { newSession, orderOf } from "../helpers/records";
import { withFakeClock } from "../helpers/clock";
import { withFakeTemporal } from "../helpers/temporal";

withFakeClock();
withFakeTemporal();

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
