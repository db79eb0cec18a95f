import { describe, expect, test } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { newBackend, type Backend } from "../helpers/backend";
import { asService, asUser } from "../helpers/callers";
import { expectConvexError, expectNothingWritten } from "../helpers/assertions";
import { newSession, newWorkOrder } from "../helpers/records";

async function alicesOrder(t: Backend) {
  return await newWorkOrder(t, await newSession(t, "alice"));
}

async function get(t: Backend, workOrderId: Id<"work_orders">) {
  return (await asService(t).query(api.workOrders.get, { workOrderId }))!;
}

describe("workOrderArgs:upsert", () => {
  test("sets an arg once, replaces its value, and rewrites nothing when the value is the same", async () => {
    const t = newBackend();
    const alice = asUser(t, "alice");
    const workOrderId = await alicesOrder(t);
    const first = await alice.mutation(api.workOrderArgs.upsert, { workOrderId, name: "model", value: "gpt-5" });
    const before = await get(t, workOrderId);
    const again = await alice.mutation(api.workOrderArgs.upsert, { workOrderId, name: "model", value: "gpt-5" });
    expect(again).toBe(first);
    expect(await get(t, workOrderId)).toEqual(before);
    const replaced = await alice.mutation(api.workOrderArgs.upsert, {
      workOrderId,
      name: "model",
      value: { name: "gpt-5", effort: "high" },
    });
    expect(replaced).toBe(first);
    expect((await get(t, workOrderId)).args).toEqual([{ name: "model", value: { name: "gpt-5", effort: "high" } }]);
  });

  test("a service sets args on any order", async () => {
    const t = newBackend();
    const workOrderId = await alicesOrder(t);
    await asService(t).mutation(api.workOrderArgs.upsert, { workOrderId, name: "dryRun", value: true });
    expect((await get(t, workOrderId)).args).toEqual([{ name: "dryRun", value: true }]);
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
    expect((await get(t, workOrderId)).args[0]).toEqual({ name: "a000", value: "changed" });
  });
});

describe("workOrderTargets:upsert", () => {
  test("every spelling of a GitHub repository is stored as owner/name in lower case", async () => {
    const t = newBackend();
    const workOrderId = await alicesOrder(t);
    for (const spelling of [
      "https://github.com/Acme/Api",
      "https://github.com/acme/api.git",
      "http://www.github.com/ACME/API/",
      "git@github.com:acme/api.git",
      "ssh://git@github.com/Acme/Api.git",
      "github.com/acme/api",
      "Acme/Api",
      "Acme/Api/",
      "Acme/Api.GIT",
      "https://github.com/Acme/Api.GIT",
      "  acme/api  ",
    ]) {
      await asUser(t, "alice").mutation(api.workOrderTargets.upsert, {
        workOrderId,
        targetRepo: spelling,
        targetBranch: "main",
      });
      expect((await get(t, workOrderId)).target, spelling).toEqual({ targetRepo: "acme/api", targetBranch: "main" });
    }
  });

  test("a repository elsewhere is kept as given", async () => {
    const t = newBackend();
    const workOrderId = await alicesOrder(t);
    for (const targetRepo of ["/srv/repos/Api", "https://gitlab.com/Acme/Api.git", "file:///tmp/Repo"]) {
      await asService(t).mutation(api.workOrderTargets.upsert, { workOrderId, targetRepo, targetBranch: "dev" });
      expect((await get(t, workOrderId)).target).toEqual({ targetRepo, targetBranch: "dev" });
    }
  });

  test("an order has one target: a second upsert replaces it in place, the same one writes nothing", async () => {
    const t = newBackend();
    const workOrderId = await alicesOrder(t);
    const service = asService(t);
    const first = await service.mutation(api.workOrderTargets.upsert, {
      workOrderId,
      targetRepo: "acme/api",
      targetBranch: "main",
    });
    const before = await get(t, workOrderId);
    expect(
      await service.mutation(api.workOrderTargets.upsert, { workOrderId, targetRepo: "Acme/API", targetBranch: "main" }),
    ).toBe(first);
    expect(await get(t, workOrderId)).toEqual(before);
    expect(
      await service.mutation(api.workOrderTargets.upsert, { workOrderId, targetRepo: "acme/web", targetBranch: "sso" }),
    ).toBe(first);
    const rows = await t.run(async (ctx) => await ctx.db.query("work_order_targets").collect());
    expect(rows).toEqual([expect.objectContaining({ workOrderId, targetRepo: "acme/web", targetBranch: "sso" })]);
  });

  test("a webhook finds the order by repository and branch through the reverse index", async () => {
    const t = newBackend();
    const workOrderId = await alicesOrder(t);
    await asService(t).mutation(api.workOrderTargets.upsert, {
      workOrderId,
      targetRepo: "https://github.com/Acme/Api",
      targetBranch: "refs/heads/feature/sso",
    });
    const found = await t.run(
      async (ctx) =>
        await ctx.db
          .query("work_order_targets")
          .withIndex("by_targetRepo_targetBranch", (q) => q.eq("targetRepo", "acme/api").eq("targetBranch", "feature/sso"))
          .collect(),
    );
    expect(found.map((row) => row.workOrderId)).toEqual([workOrderId]);
  });

  test("another user's order is NOT_FOUND; without an identity UNAUTHENTICATED", async () => {
    const t = newBackend();
    const workOrderId = await alicesOrder(t);
    const args = { workOrderId, targetRepo: "acme/api", targetBranch: "main" };
    await expectNothingWritten(t, async () => {
      await expectConvexError(asUser(t, "bob").mutation(api.workOrderTargets.upsert, args), "NOT_FOUND");
      await expectConvexError(t.mutation(api.workOrderTargets.upsert, args), "UNAUTHENTICATED");
    });
  });

  test.each([
    ["an empty repo", "", "main", /targetRepo/],
    ["a repo over 512 characters", `/srv/${"r".repeat(512)}`, "main", /targetRepo/],
    ["an empty branch", "acme/api", "", /targetBranch/],
    ["a branch over 255 characters", "acme/api", "b".repeat(256), /targetBranch/],
    ["a branch with a colon", "acme/api", "a:b", /targetBranch/],
  ])("%s is refused with INVALID_ARGUMENT", async (_case, targetRepo, targetBranch, detail) => {
    const t = newBackend();
    const workOrderId = await alicesOrder(t);
    await expectNothingWritten(t, async () => {
      const error = await expectConvexError(
        asService(t).mutation(api.workOrderTargets.upsert, { workOrderId, targetRepo, targetBranch }),
        "INVALID_ARGUMENT",
      );
      expect(error.message).toMatch(detail);
    });
  });
});

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
    expect((await get(t, workOrderId)).links).toEqual([
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
    expect((await get(t, first)).links).toHaveLength(1);
    expect((await get(t, second)).links).toHaveLength(1);
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
