import { describe, expect, test } from "vitest";
import { api } from "../../convex/_generated/api";
import { newBackend } from "../helpers/backend";
import { asService, asUser } from "../helpers/callers";
import { expectConvexError, expectNothingWritten } from "../helpers/assertions";
import { alicesOrder, newSession, newWorkOrder, orderOf } from "../helpers/records";

describe("workOrderLinks:add", () => {
  const sha = "0123456789abcdef0123456789ABCDEF01234567";

  test("adds issue, pull request and commit links once each, in canonical form", async () => {
    const t = newBackend();
    const alice = asUser(t, "alice");
    const workOrderId = await alicesOrder(t);
    const issue = await alice.mutation(api.workOrderLinks.add, {
      workOrderId,
      kind: "github_issue",
      value: "https://github.com/Acme/Api/issues/7",
    });
    const pr = await alice.mutation(api.workOrderLinks.add, {
      workOrderId,
      kind: "pr",
      value: "https://GitHub.com/Acme/Api/pull/12/",
    });
    const commit = await alice.mutation(api.workOrderLinks.add, { workOrderId, kind: "commit", value: sha });
    expect(
      await alice.mutation(api.workOrderLinks.add, {
        workOrderId,
        kind: "github_issue",
        value: "https://www.github.com/acme/api/issues/7",
      }),
    ).toBe(issue);
    expect(
      await alice.mutation(api.workOrderLinks.add, {
        workOrderId,
        kind: "pr",
        value: "https://github.com/acme/api/pull/12",
      }),
    ).toBe(pr);
    expect(await alice.mutation(api.workOrderLinks.add, { workOrderId, kind: "commit", value: sha.toLowerCase() })).toBe(
      commit,
    );
    expect(new Set([issue, pr, commit]).size).toBe(3);
    expect((await orderOf(t, workOrderId)).links).toEqual([
      { kind: "github_issue", value: "https://github.com/acme/api/issues/7" },
      { kind: "pr", value: "https://github.com/acme/api/pull/12" },
      { kind: "commit", value: sha.toLowerCase() },
    ]);
  });

  test("the same commit may be linked to two orders, once each", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const first = await newWorkOrder(t, sessionId);
    const second = await newWorkOrder(t, sessionId);
    const service = asService(t);
    const a = await service.mutation(api.workOrderLinks.add, { workOrderId: first, kind: "commit", value: sha });
    const b = await service.mutation(api.workOrderLinks.add, { workOrderId: second, kind: "commit", value: sha });
    expect(a).not.toBe(b);
    expect(await service.mutation(api.workOrderLinks.add, { workOrderId: second, kind: "commit", value: sha })).toBe(b);
    expect((await orderOf(t, first)).links).toHaveLength(1);
    expect((await orderOf(t, second)).links).toHaveLength(1);
  });

  test("another user's order is NOT_FOUND; without an identity UNAUTHENTICATED", async () => {
    const t = newBackend();
    const workOrderId = await alicesOrder(t);
    const args = { workOrderId, kind: "commit" as const, value: sha };
    await expectNothingWritten(t, async () => {
      await expectConvexError(asUser(t, "bob").mutation(api.workOrderLinks.add, args), "NOT_FOUND");
      await expectConvexError(t.mutation(api.workOrderLinks.add, args), "UNAUTHENTICATED");
    });
  });

  test("an unknown kind is INVALID_ARGUMENT naming the kinds", async () => {
    const t = newBackend();
    const workOrderId = await alicesOrder(t);
    await expectNothingWritten(t, async () => {
      const error = await expectConvexError(
        asService(t).mutation(api.workOrderLinks.add, { workOrderId, kind: "branch", value: "main" }),
        "INVALID_ARGUMENT",
      );
      expect(error.message).toBe('kind must be one of github_issue, pr, commit; got "branch".');
    });
  });

  test.each([
    ["commit", "abc123"],
    ["commit", "g".repeat(40)],
    ["commit", "a".repeat(64)],
    ["pr", "https://github.com/acme/api/issues/3"],
    ["pr", "http://github.com/acme/api/pull/3"],
    ["pr", "https://github.com/acme/api/pull/3/files"],
    ["pr", "https://github.com/acme/api/pull/3?tab=commits"],
    ["pr", "https://github.com/acme/api/pull/0"],
    ["pr", "github.com/acme/api/pull/3"],
    ["pr", "acme/api#3"],
    ["github_issue", "https://github.com/acme/api/pull/3"],
    ["github_issue", "https://github.com/acme/issues/3"],
    ["github_issue", `https://github.com/acme/api/issues/3#${"x".repeat(2048)}`],
  ] as const)("a %s link %j is refused with INVALID_ARGUMENT", async (kind, value) => {
    const t = newBackend();
    const workOrderId = await alicesOrder(t);
    await expectNothingWritten(t, async () => {
      const error = await expectConvexError(
        asService(t).mutation(api.workOrderLinks.add, { workOrderId, kind, value }),
        "INVALID_ARGUMENT",
      );
      expect(error.message).toMatch(kind === "commit" ? /SHA/ : /https URL|limit/);
    });
  });
});
