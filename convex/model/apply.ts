import type { Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import type { Command, WorkOrderSelector } from "../../src/commands";
import { isTerminal, type StatusSource } from "../../src/workOrders/status";
import { addLink } from "./links";
import { changeStatus } from "./status";

/** A record a command changed, or a change it asked for and the status machine refused. */
export type Touched = { table: string; id: string; change: string };

// Bounds on how many work orders one selector may reach: a branch or an
// issue shared by more orders than this is a misconfiguration, not a workload.
const MAX_ORDERS_PER_SELECTOR = 100;

/** The ids of the orders a selector names, each read through an index. */
async function resolve(ctx: MutationCtx, selector: WorkOrderSelector): Promise<Id<"work_orders">[]> {
  switch (selector.by) {
    case "id": {
      const workOrderId = ctx.db.normalizeId("work_orders", selector.workOrderId);
      const order = workOrderId === null ? null : await ctx.db.get("work_orders", workOrderId);
      return order === null ? [] : [order._id];
    }
    case "target": {
      const targets = await ctx.db
        .query("work_order_targets")
        .withIndex("by_targetRepo_targetBranch", (q) =>
          q.eq("targetRepo", selector.targetRepo).eq("targetBranch", selector.targetBranch),
        )
        .take(MAX_ORDERS_PER_SELECTOR);
      const ids: Id<"work_orders">[] = [];
      for (const target of targets) {
        const order = await ctx.db.get("work_orders", target.workOrderId);
        // Rule 1 only attaches to orders still in progress.
        if (order !== null && !isTerminal(order.status)) {
          ids.push(order._id);
        }
      }
      return ids;
    }
    case "link": {
      const links = await ctx.db
        .query("work_order_links")
        .withIndex("by_kind_value", (q) => q.eq("kind", selector.kind).eq("value", selector.value))
        .take(MAX_ORDERS_PER_SELECTOR);
      return links.map((link) => link.workOrderId);
    }
  }
}

/**
 * Executes commands, whoever sent them, through the helpers the public
 * functions use: a link is added once, a status moves only forward. Each
 * selector is resolved once, before any command changes anything, so every
 * command of a delivery reaches the same orders. Returns what changed.
 */
export async function applyCommands(
  ctx: MutationCtx,
  commands: Command[],
  origin: { source: StatusSource; actor: string },
): Promise<Touched[]> {
  const resolved = new Map<string, Id<"work_orders">[]>();
  for (const command of commands) {
    for (const selector of command.workOrders) {
      const key = JSON.stringify(selector);
      if (!resolved.has(key)) {
        resolved.set(key, await resolve(ctx, selector));
      }
    }
  }
  const touched: Touched[] = [];
  for (const command of commands) {
    const workOrderIds = new Set(command.workOrders.flatMap((selector) => resolved.get(JSON.stringify(selector))!));
    for (const workOrderId of workOrderIds) {
      const order = (await ctx.db.get("work_orders", workOrderId))!;
      if (command.type === "addLink") {
        const { linkId, added } = await addLink(ctx, order, command.link);
        if (added) {
          touched.push({
            table: "work_order_links",
            id: linkId,
            change: `linked ${command.link.kind} ${command.link.value} to work order ${workOrderId}`,
          });
        }
      } else {
        const outcome = await changeStatus(ctx, order, {
          to: command.to,
          source: origin.source,
          actorKind: "service",
          actor: origin.actor,
          reason: command.reason,
        });
        if (outcome.kind === "changed") {
          touched.push({ table: "work_orders", id: workOrderId, change: `status ${order.status} -> ${command.to}` });
        } else if (outcome.kind === "refused") {
          touched.push({
            table: "work_orders",
            id: workOrderId,
            change: `status ${command.to} not applied: ${outcome.message}`,
          });
        }
      }
    }
  }
  return touched;
}
