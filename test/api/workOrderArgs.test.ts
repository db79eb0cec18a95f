import { describe, expect, test } from "vitest";
import { api } from "../../convex/_generated/api";
import { newBackend } from "../helpers/backend";
import { asService, asUser } from "../helpers/callers";
import { expectConvexError, expectNothingWritten } from "../helpers/assertions";
import { alicesOrder, newSession, newWorkOrder, orderOf } from "../helpers/records";

describe("workOrderArgs:upsert", () => {
  test("sets an arg once, replaces its value, and rewrites nothing when the value is the same", async () => {
    const t = newBackend();
    const alice = asUser(t, "alice");
    const workOrderId = await alicesOrder(t);
    const first = await alice.mutation(api.workOrderArgs.upsert, { workOrderId, name: "model", value: "gpt-5" });
    const before = await orderOf(t, workOrderId);
    const again = await alice.mutation(api.workOrderArgs.upsert, { workOrderId, name: "model", value: "gpt-5" });
    expect(again).toBe(first);
    expect(await orderOf(t, workOrderId)).toEqual(before);
    const replaced = await alice.mutation(api.workOrderArgs.upsert, {
      workOrderId,
      name: "model",
      value: { name: "gpt-5", effort: "high" },
    });
    expect(replaced).toBe(first);
    expect((await orderOf(t, workOrderId)).args).toEqual([{ name: "model", value: { name: "gpt-5", effort: "high" } }]);
  });

  test("a service sets args on any order", async () => {
    const t = newBackend();
    const workOrderId = await alicesOrder(t);
    await asService(t).mutation(api.workOrderArgs.upsert, { workOrderId, name: "dryRun", value: true });
    expect((await orderOf(t, workOrderId)).args).toEqual([{ name: "dryRun", value: true }]);
  });

  test("another user's order is NOT_FOUND", async () => {
    const t = newBackend();
    const workOrderId = await alicesOrder(t);
    await expectNothingWritten(t, () =>
      expectConvexError(
        asUser(t, "bob").mutation(api.workOrderArgs.upsert, { workOrderId, name: "a", value: 1 }),
        "NOT_FOUND",
      ),
    );
  });

  test("without an identity the call fails UNAUTHENTICATED", async () => {
    const t = newBackend();
    const workOrderId = await alicesOrder(t);
    await expectNothingWritten(t, () =>
      expectConvexError(t.mutation(api.workOrderArgs.upsert, { workOrderId, name: "a", value: 1 }), "UNAUTHENTICATED"),
    );
  });

  test.each([
    ["an empty name", "", 1, /arg name/],
    ["a name over 128 characters", "n".repeat(129), 1, /arg name/],
    ["a name with a control character", "a\u0007b", 1, /control/],
    ["a value over 64 KiB", "big", ["x".repeat(64 * 1024)], /arg big/],
  ])("%s is refused with INVALID_ARGUMENT", async (_case, name, value, detail) => {
    const t = newBackend();
    const workOrderId = await alicesOrder(t);
    await expectNothingWritten(t, async () => {
      const error = await expectConvexError(
        asService(t).mutation(api.workOrderArgs.upsert, { workOrderId, name, value }),
        "INVALID_ARGUMENT",
      );
      expect(error.message).toMatch(detail);
    });
  });

  test("a 101st arg is refused; changing one of the 100 still works", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const args = Array.from({ length: 100 }, (_, i) => ({ name: `a${String(i).padStart(3, "0")}`, value: i }));
    const workOrderId = await newWorkOrder(t, sessionId, { args });
    await expectNothingWritten(t, () =>
      expectConvexError(
        asService(t).mutation(api.workOrderArgs.upsert, { workOrderId, name: "one-too-many", value: 1 }),
        "INVALID_ARGUMENT",
      ),
    );
    await asService(t).mutation(api.workOrderArgs.upsert, { workOrderId, name: "a000", value: "changed" });
    expect((await orderOf(t, workOrderId)).args[0]).toEqual({ name: "a000", value: "changed" });
  });
});
