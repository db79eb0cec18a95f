import { describe, expect, test } from "vitest";
import { api } from "../../convex/_generated/api";
import { newBackend } from "../helpers/backend";
import { asService, asUser } from "../helpers/callers";
import { expectConvexError, expectNothingWritten } from "../helpers/assertions";
import { alicesOrder, orderOf } from "../helpers/records";

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
      expect((await orderOf(t, workOrderId)).target, spelling).toEqual({ targetRepo: "acme/api", targetBranch: "main" });
    }
  });

  test("a repository elsewhere is kept as given", async () => {
    const t = newBackend();
    const workOrderId = await alicesOrder(t);
    for (const targetRepo of ["/srv/repos/Api", "https://gitlab.com/Acme/Api.git", "file:///tmp/Repo"]) {
      await asService(t).mutation(api.workOrderTargets.upsert, { workOrderId, targetRepo, targetBranch: "dev" });
      expect((await orderOf(t, workOrderId)).target).toEqual({ targetRepo, targetBranch: "dev" });
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
    const before = await orderOf(t, workOrderId);
    expect(
      await service.mutation(api.workOrderTargets.upsert, { workOrderId, targetRepo: "Acme/API", targetBranch: "main" }),
    ).toBe(first);
    expect(await orderOf(t, workOrderId)).toEqual(before);
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
