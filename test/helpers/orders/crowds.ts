import { api } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import { rebuildLiveIndex } from "../../../convex/model/workOrders/liveIndex";
import type { WorkOrderStatus } from "../../../src/workOrders/status";
import type { Backend } from "../backend";
import { asService } from "../callers";
import { newWorkOrder } from "../records";

/** Work orders in the states the effects of deliveries need: live on a branch, or crowds written directly. */

export type Target = { targetRepo: string; targetBranch: string };

/** A work order on `target`, moved to running. */
export async function liveOrder(t: Backend, sessionId: Id<"chat_sessions">, target?: Target) {
  const workOrderId = await newWorkOrder(t, sessionId, { target });
  await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: "running" });
  return workOrderId;
}

/**
 * `count` work orders written directly, oldest first (a crowd built up over
 * time), in `status`, each with `target` and/or a `link` when given.
 */
export async function seedOrders(
  t: Backend,
  sessionId: Id<"chat_sessions">,
  count: number,
  options: {
    status: WorkOrderStatus;
    target?: Target;
    link?: { kind: "pr" | "github_issue" | "commit"; value: string };
    /** The prompt's size in bytes (orders' documents as large as a caller may make them). */
    promptBytes?: number;
  },
): Promise<Id<"work_orders">[]> {
  const ids: Id<"work_orders">[] = [];
  // Written 20 to a transaction: large orders would pass a transaction's limits all at once.
  for (let first = 0; first < count; first += 20) {
    ids.push(...(await seedBatch(t, sessionId, first, Math.min(count, first + 20), options)));
  }
  return ids;
}

async function seedBatch(t: Backend, sessionId: Id<"chat_sessions">, from: number, to: number, options: Parameters<typeof seedOrders>[3]) {
  return await t.run(async (ctx) => {
    const ids: Id<"work_orders">[] = [];
    for (let i = from; i < to; i += 1) {
      const now = Date.now();
      const workOrderId = await ctx.db.insert("work_orders", {
        sessionId,
        workflowType: "codex-implement",
        prompt: options.promptBytes === undefined ? `Crowd ${i}` : `Crowd ${i} `.padEnd(options.promptBytes, "p"),
        title: `Crowd ${i}`,
        status: options.status,
        requestedBy: "alice",
        createdAt: now,
        updatedAt: now,
      });
      if (options.target) {
        await ctx.db.insert("work_order_targets", { workOrderId, ...options.target });
      }
      if (options.link) {
        await ctx.db.insert("work_order_links", { workOrderId, ...options.link });
      }
      // What the choke points keep beside an order written through them.
      await rebuildLiveIndex(ctx, (await ctx.db.get("work_orders", workOrderId))!);
      ids.push(workOrderId);
    }
    return ids;
  });
}
