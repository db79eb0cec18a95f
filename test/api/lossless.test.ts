/**
 * workOrders:get is the lossless join of what was written about a work order
 * (workOrders:create, workOrderArgs:upsert, workOrderTargets:upsert,
 * workOrderLinks:add), in the stored canonical forms of
 * docs/contract.md#1-data-model and docs/contract.md#2-public-functions.
 * The same for any sequence of writes: test/api/losslessProperty.test.ts.
 */
import { describe, expect, test, vi } from "vitest";
import { api } from "../../convex/_generated/api";
import { newBackend } from "../helpers/backend";
import { asService, asUser } from "../helpers/callers";
import { START, withClockAtStart } from "../helpers/orders/model";

withClockAtStart();

describe("workOrders:get returns exactly what was written", () => {
  test("a work order written piecewise reads back canonical: args by name, last target, each link once in order", async () => {
    const t = newBackend();
    const alice = asUser(t, "alice");
    const sessionId = await alice.mutation(api.chatSessions.create, { title: "Ship SSO" });

    vi.setSystemTime(START + 1000);
    const workOrderId = await asService(t).mutation(api.workOrders.create, {
      sessionId,
      workflowType: "codex-implement",
      prompt: "  Make the login page accept SSO.  ",
      title: "SSO login",
      status: "draft",
      args: [
        { name: "retries", value: 3n },
        { name: "flags", value: { dryRun: true, depth: -0 } },
      ],
      target: { targetRepo: "https://github.com/Acme/Api.git", targetBranch: "refs/heads/main" },
    });

    vi.setSystemTime(START + 2000);
    const retriesId = await alice.mutation(api.workOrderArgs.upsert, { workOrderId, name: "retries", value: 5n });
    await alice.mutation(api.workOrderArgs.upsert, { workOrderId, name: "alpha", value: [1.5, null, "x"] });
    vi.setSystemTime(START + 3000);
    await alice.mutation(api.workOrderTargets.upsert, {
      workOrderId,
      targetRepo: " git@github.com:Acme/Web.git ",
      targetBranch: "feature/sso",
    });
    vi.setSystemTime(START + 4000);
    const prId = await alice.mutation(api.workOrderLinks.add, {
      workOrderId,
      kind: "pr",
      value: "https://GitHub.com/Acme/Web/pull/12/",
    });
    await alice.mutation(api.workOrderLinks.add, {
      workOrderId,
      kind: "commit",
      value: "0123456789ABCDEF0123456789ABCDEF01234567",
    });
    await alice.mutation(api.workOrderLinks.add, {
      workOrderId,
      kind: "github_issue",
      value: "https://github.com/acme/web/issues/7",
    });
    // Written again, in other spellings or with the same value, a minute later: no change at all.
    vi.setSystemTime(START + 60_000);
    expect(
      await alice.mutation(api.workOrderLinks.add, {
        workOrderId,
        kind: "pr",
        value: "https://github.com/acme/web/pull/12",
      }),
    ).toBe(prId);
    expect(
      await alice.mutation(api.workOrderArgs.upsert, { workOrderId, name: "retries", value: 5n }),
    ).toBe(retriesId);
    await alice.mutation(api.workOrderTargets.upsert, {
      workOrderId,
      targetRepo: "acme/web",
      targetBranch: "feature/sso",
    });

    expect(await alice.query(api.workOrders.get, { workOrderId })).toEqual({
      _id: workOrderId,
      _creationTime: expect.any(Number),
      sessionId,
      workflowType: "codex-implement",
      prompt: "  Make the login page accept SSO.  ",
      title: "SSO login",
      status: "draft",
      requestedBy: "alice",
      createdAt: START + 1000,
      // The arg, target and link changes came within a minute of its creation.
      updatedAt: START + 1000,
      args: [
        { name: "alpha", value: [1.5, null, "x"] },
        { name: "flags", value: { dryRun: true, depth: -0 } },
        { name: "retries", value: 5n },
      ],
      target: { targetRepo: "acme/web", targetBranch: "feature/sso" },
      links: [
        { kind: "pr", value: "https://github.com/acme/web/pull/12" },
        { kind: "commit", value: "0123456789abcdef0123456789abcdef01234567" },
        { kind: "github_issue", value: "https://github.com/acme/web/issues/7" },
      ],
    });
  });

  test("values JSON prints alike are different values: 3n overwrites 3, -0 overwrites 0, and read back as written", async () => {
    const t = newBackend();
    const alice = asUser(t, "alice");
    const sessionId = await alice.mutation(api.chatSessions.create, { title: "Int64 and floats" });
    const workOrderId = await alice.mutation(api.workOrders.create, {
      sessionId,
      workflowType: "codex-implement",
      prompt: "Count to three.",
      title: "Counting",
      args: [
        { name: "count", value: 3 },
        { name: "offset", value: 0 },
        { name: "nested", value: { at: [1n, 0] } },
      ],
    });
    vi.setSystemTime(START + 1000);
    await alice.mutation(api.workOrderArgs.upsert, { workOrderId, name: "count", value: 3n });
    await alice.mutation(api.workOrderArgs.upsert, { workOrderId, name: "offset", value: -0 });
    await alice.mutation(api.workOrderArgs.upsert, { workOrderId, name: "nested", value: { at: [1, -0] } });

    const order = await alice.query(api.workOrders.get, { workOrderId });
    expect(order?.args).toEqual([
      { name: "count", value: 3n },
      { name: "nested", value: { at: [1, -0] } },
      { name: "offset", value: -0 },
    ]);
    expect(order?.updatedAt).toBe(START);
  });
});
