import { describe, expect, test } from "vitest";
import { api } from "../../convex/_generated/api";
import { newBackend } from "../helpers/backend";
import { asService, asUser } from "../helpers/callers";
import { expectConvexError, expectNothingWritten, expectValidatorError } from "../helpers/assertions";
import { newSession, newWorkOrder, statusHistory, FIRST_PAGE } from "../helpers/records";


const order = {
  workflowType: "codex-implement",
  prompt: "Add SSO to the login page.",
  title: "SSO login",
};

describe("workOrders:create", () => {
  test("a user's order is submitted by default, with its args and target in the same transaction", async () => {
    const t = newBackend();
    const alice = asUser(t, "alice");
    const sessionId = await newSession(t, "alice");
    const workOrderId = await alice.mutation(api.workOrders.create, {
      sessionId,
      ...order,
      args: [
        { name: "model", value: "gpt-5" },
        { name: "attempts", value: 3 },
      ],
      target: { targetRepo: "git@github.com:Acme/API.git", targetBranch: "refs/heads/feature/sso" },
    });
    const created = await alice.query(api.workOrders.get, { workOrderId });
    expect(created).toMatchObject({
      _id: workOrderId,
      sessionId,
      ...order,
      status: "submitted",
      requestedBy: "alice",
      args: [
        { name: "attempts", value: 3 },
        { name: "model", value: "gpt-5" },
      ],
      target: { targetRepo: "acme/api", targetBranch: "feature/sso" },
      links: [],
    });
    expect(created!.updatedAt).toBe(created!.createdAt);
    expect(await statusHistory(t, workOrderId)).toMatchObject([
      { from: null, to: "submitted", source: "api", actor: "user:alice" },
    ]);
  });

  test("an order may start as a draft, without args or target", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const workOrderId = await asUser(t, "alice").mutation(api.workOrders.create, {
      sessionId,
      ...order,
      status: "draft",
    });
    expect(await asUser(t, "alice").query(api.workOrders.get, { workOrderId })).toMatchObject({
      status: "draft",
      args: [],
      target: null,
      links: [],
    });
  });

  test("a service's order is requested by the session's owner unless it names someone", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const byDefault = await asService(t).mutation(api.workOrders.create, { sessionId, ...order });
    const named = await asService(t).mutation(api.workOrders.create, {
      sessionId,
      ...order,
      requestedBy: "slack:T1:U2",
    });
    const get = (workOrderId: typeof named) => asUser(t, "alice").query(api.workOrders.get, { workOrderId });
    expect(await get(byDefault)).toMatchObject({ requestedBy: "alice" });
    expect(await get(named)).toMatchObject({ requestedBy: "slack:T1:U2" });
  });

  test("a user may not name someone else as requestedBy", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    await expectNothingWritten(t, () =>
      expectConvexError(
        asUser(t, "alice").mutation(api.workOrders.create, { sessionId, ...order, requestedBy: "bob" }),
        "INVALID_ARGUMENT",
      ),
    );
  });

  test("another user's session is NOT_FOUND", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "bob");
    await expectNothingWritten(t, () =>
      expectConvexError(asUser(t, "alice").mutation(api.workOrders.create, { sessionId, ...order }), "NOT_FOUND"),
    );
  });

  test("without an identity the call fails UNAUTHENTICATED", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    await expectNothingWritten(t, () =>
      expectConvexError(t.mutation(api.workOrders.create, { sessionId, ...order }), "UNAUTHENTICATED"),
    );
  });

  test.each(["running", "done"])("an order cannot be created as %s: INVALID_ARGUMENT", async (status) => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    await expectNothingWritten(t, async () => {
      const error = await expectConvexError(
        asService(t).mutation(api.workOrders.create, { sessionId, ...order, status }),
        "INVALID_ARGUMENT",
      );
      expect(error.message).toBe(`status must be one of draft, submitted; got "${status}".`);
    });
  });

  const badInputs: [string, Record<string, unknown>, RegExp][] = [
    ["an empty title", { title: "" }, /title/],
    ["a title over 200 characters", { title: "x".repeat(201) }, /title/],
    ["a blank prompt", { prompt: "  " }, /prompt/],
    ["a prompt over 256 KiB", { prompt: "p".repeat(256 * 1024 + 1) }, /prompt/],
    ["an empty workflowType", { workflowType: "" }, /workflowType/],
    ["an empty requestedBy", { requestedBy: "" }, /requestedBy/],
    ["an arg with an empty name", { args: [{ name: "", value: 1 }] }, /arg name/],
    ["an arg name with surrounding spaces", { args: [{ name: " model", value: 1 }] }, /arg name/],
    ["an arg given twice", { args: [{ name: "a", value: 1 }, { name: "a", value: 2 }] }, /twice/],
    ["an arg value over 64 KiB", { args: [{ name: "a", value: "v".repeat(64 * 1024) }] }, /arg a/],
    [
      "101 args",
      { args: Array.from({ length: 101 }, (_, i) => ({ name: `a${i}`, value: i })) },
      /at most 100/,
    ],
    ["an empty target branch", { target: { targetRepo: "acme/api", targetBranch: "" } }, /targetBranch/],
    ["a branch with a space", { target: { targetRepo: "acme/api", targetBranch: "my branch" } }, /targetBranch/],
    ["an empty target repo", { target: { targetRepo: " ", targetBranch: "main" } }, /targetRepo/],
  ];
  test.each(badInputs)("%s is refused with INVALID_ARGUMENT and nothing is written", async (_case, fields, detail) => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    await expectNothingWritten(t, async () => {
      const error = await expectConvexError(
        asService(t).mutation(api.workOrders.create, { sessionId, ...order, ...fields }),
        "INVALID_ARGUMENT",
      );
      expect(error.message).toMatch(detail);
    });
  });
});

describe("workOrders:updateStatus", () => {
  test("a service moves an order forward; the change is recorded with its reason", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const workOrderId = await newWorkOrder(t, sessionId);
    const result = await asService(t).mutation(api.workOrders.updateStatus, {
      workOrderId,
      status: "accepted",
      reason: "workflow started",
    });
    expect(result).toEqual({ status: "accepted", changed: true });
    const history = await statusHistory(t, workOrderId);
    expect(history.at(-1)).toMatchObject({
      from: "submitted",
      to: "accepted",
      source: "api",
      reason: "workflow started",
      actor: expect.stringMatching(/^service:/),
    });
  });

  test("another user's order is NOT_FOUND and keeps its status", async () => {
    const t = newBackend();
    const workOrderId = await newWorkOrder(t, await newSession(t, "bob"));
    await expectNothingWritten(t, () =>
      expectConvexError(
        asUser(t, "alice").mutation(api.workOrders.updateStatus, { workOrderId, status: "canceled" }),
        "NOT_FOUND",
      ),
    );
  });

  test("without an identity the call fails UNAUTHENTICATED", async () => {
    const t = newBackend();
    const workOrderId = await newWorkOrder(t, await newSession(t, "alice"));
    await expectNothingWritten(t, () =>
      expectConvexError(t.mutation(api.workOrders.updateStatus, { workOrderId, status: "canceled" }), "UNAUTHENTICATED"),
    );
  });

  test("an unknown status is INVALID_ARGUMENT naming the statuses", async () => {
    const t = newBackend();
    const workOrderId = await newWorkOrder(t, await newSession(t, "alice"));
    await expectNothingWritten(t, async () => {
      const error = await expectConvexError(
        asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: "done" }),
        "INVALID_ARGUMENT",
      );
      expect(error.message).toMatch(/^status must be one of draft, submitted, accepted, running, succeeded, failed, canceled; got "done"/);
    });
  });

  test("a reason over 2000 characters is refused with INVALID_ARGUMENT", async () => {
    const t = newBackend();
    const workOrderId = await newWorkOrder(t, await newSession(t, "alice"));
    await expectNothingWritten(t, () =>
      expectConvexError(
        asService(t).mutation(api.workOrders.updateStatus, {
          workOrderId,
          status: "accepted",
          reason: "r".repeat(2001),
        }),
        "INVALID_ARGUMENT",
      ),
    );
  });

  test("a work order that no longer exists is NOT_FOUND", async () => {
    const t = newBackend();
    const workOrderId = await newWorkOrder(t, await newSession(t, "alice"));
    await t.run(async (ctx) => await ctx.db.delete("work_orders", workOrderId));
    await expectConvexError(
      asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: "accepted" }),
      "NOT_FOUND",
    );
  });
});

describe("workOrders:listBySession", () => {
  test("lists a session's orders newest first; another user's session gives an empty page", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const older = await newWorkOrder(t, sessionId, { title: "older" });
    await new Promise((resolve) => setTimeout(resolve, 2));
    const newer = await newWorkOrder(t, sessionId, { title: "newer" });
    await newWorkOrder(t, await newSession(t, "alice", "another session"));
    const mine = await asUser(t, "alice").query(api.workOrders.listBySession, { sessionId, paginationOpts: FIRST_PAGE });
    expect(mine.page.map((o) => o._id)).toEqual([newer, older]);
    const bobs = await asUser(t, "bob").query(api.workOrders.listBySession, { sessionId, paginationOpts: FIRST_PAGE });
    expect(bobs).toMatchObject({ page: [], isDone: true });
    const services = await asService(t).query(api.workOrders.listBySession, { sessionId, paginationOpts: FIRST_PAGE });
    expect(services.page).toHaveLength(2);
  });

  test("without an identity the call fails UNAUTHENTICATED", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    await expectConvexError(
      t.query(api.workOrders.listBySession, { sessionId, paginationOpts: FIRST_PAGE }),
      "UNAUTHENTICATED",
    );
  });
});

describe("workOrders:get", () => {
  test("another user's order is null; a service sees it; an unknown order is null", async () => {
    const t = newBackend();
    const workOrderId = await newWorkOrder(t, await newSession(t, "bob"));
    expect(await asUser(t, "alice").query(api.workOrders.get, { workOrderId })).toBeNull();
    expect(await asService(t).query(api.workOrders.get, { workOrderId })).toMatchObject({ _id: workOrderId });
    await t.run(async (ctx) => await ctx.db.delete("work_orders", workOrderId));
    expect(await asService(t).query(api.workOrders.get, { workOrderId })).toBeNull();
  });

  test("without an identity the call fails UNAUTHENTICATED", async () => {
    const t = newBackend();
    const workOrderId = await newWorkOrder(t, await newSession(t, "alice"));
    await expectConvexError(t.query(api.workOrders.get, { workOrderId }), "UNAUTHENTICATED");
  });

  test("an id of another table is refused by argument validation", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    await expectValidatorError(
      asUser(t, "alice").query(api.workOrders.get, { workOrderId: sessionId as never }),
      /work_orders/,
    );
  });
});
