import { describe, expect, test } from "vitest";
import { newBackend, type Backend } from "../helpers/backend";
import { postGithub, pushOf } from "../helpers/senders/github";
import { newSession, linksOf } from "../helpers/records";
import { withFakeClock, settle } from "../helpers/clock";
import { deliveryRow } from "../helpers/inbox/deliveries";
import { FEATURE_BRANCH, orderOnFeatureBranch } from "../helpers/inbox/runs";

/*
 * What applying a push costs: the documents it reads do not grow with
 * unrelated work orders, targets and links.
 */

withFakeClock();

describe("cost", () => {
  async function seedUnrelated(t: Backend, count: number) {
    const sessionId = await newSession(t, "bob");
    for (let start = 0; start < count; start += 250) {
      await t.run(async (ctx) => {
        for (let i = start; i < Math.min(count, start + 250); i += 1) {
          const now = Date.now();
          const workOrderId = await ctx.db.insert("work_orders", {
            sessionId: sessionId,
            workflowType: "codex-implement",
            prompt: `Unrelated task ${i}`,
            title: `Task ${i}`,
            status: i % 3 === 0 ? "succeeded" : "running",
            requestedBy: "bob",
            createdAt: now,
            updatedAt: now,
          });
          // Same repository, other branches; and other repositories.
          await ctx.db.insert("work_order_targets", {
            workOrderId,
            targetRepo: i % 2 === 0 ? "acme/widgets" : `acme/service-${i}`,
            targetBranch: `task-${i}`,
          });
          await ctx.db.insert("work_order_links", {
            workOrderId,
            kind: "commit",
            value: (1_000_000 + i).toString(16).padStart(40, "f"),
          });
        }
      });
    }
  }

  test("documents read for a push do not grow with unrelated work orders, targets and links", async () => {
    const costs: Record<number, { documentsRead: number; bytesRead: number }> = {};
    for (const unrelated of [10, 5000]) {
      const t = newBackend();
      await seedUnrelated(t, unrelated);
      const workOrderId = await orderOnFeatureBranch(t);
      const response = await postGithub(t, { event: "push", payload: pushOf(FEATURE_BRANCH, 5) });
      await settle(t);
      const processed = await deliveryRow(t, response.body.delivery);
      expect(processed.status).toBe("processed");
      expect(await linksOf(t, workOrderId)).toHaveLength(5);
      costs[unrelated] = processed.cost!;
    }
    console.log(`push of 5 commits: documents read with 10 unrelated = ${costs[10].documentsRead}, with 5000 = ${costs[5000].documentsRead}`);
    expect(costs[5000].documentsRead).toBe(costs[10].documentsRead);
  });
});
