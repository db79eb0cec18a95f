import type { Doc, Id } from "../_generated/dataModel";
import type { QueryCtx } from "../_generated/server";
import type { Command, WorkOrderSelector } from "../../src/commands";
import { isTerminal } from "../../src/workOrders/status";
import type { Applied } from "./applied";
import { linkKey } from "./links";

/*
 * Which work orders a delivery concerns (docs/contract.md section 4): each
 * selector of its commands resolved once, through an index, within bounds
 * so that no crowd of orders can hide one or push a delivery past a
 * transaction's limits: a
 * selector reaches at most MAX_ORDERS_PER_SELECTOR orders, the most recently
 * created first; rule 1 looks at most at MAX_TARGETS_SCANNED targets of the
 * branch to find live ones; a delivery resolves at most MAX_SELECTORS
 * distinct selectors and MAX_ORDERS_RESOLVED orders in all.
 */
const MAX_ORDERS_PER_SELECTOR = 100;
const MAX_TARGETS_SCANNED = 200;
const MAX_SELECTORS = 25;
const MAX_ORDERS_RESOLVED = 600;

/** What resolving found, for the commands of one transaction. */
export type Found = {
  /** The orders each selector reached, by selectorKey. */
  reached: Map<string, Id<"work_orders">[]>;
  /** Orders read in this transaction, each read once and passed along (null: no such order). */
  orders: Map<Id<"work_orders">, Doc<"work_orders"> | null>;
  /** Link rows rule 3 found, per order, by linkKey: known to exist. */
  knownLinks: Map<Id<"work_orders">, Map<string, Id<"work_order_links">>>;
};

export function nothingFound(): Found {
  return { reached: new Map(), orders: new Map(), knownLinks: new Map() };
}

/** The work-order selectors a command names, if it concerns work orders. */
export function selectorsOf(command: Command): WorkOrderSelector[] {
  return "workOrders" in command ? command.workOrders : [];
}

export function selectorKey(selector: WorkOrderSelector): string {
  return JSON.stringify(selector);
}

function describeSelector(selector: WorkOrderSelector): string {
  switch (selector.by) {
    case "id":
      return `work order ${selector.workOrderId}`;
    case "target":
      return `work orders targeting ${selector.targetRepo}:${selector.targetBranch}`;
    case "link":
      return `work orders linked to ${selector.kind} ${selector.value}`;
  }
}

/** The distinct selectors of the commands, in the order they first appear. */
export function distinctSelectors(commands: Command[]): WorkOrderSelector[] {
  const seen = new Map<string, WorkOrderSelector>();
  for (const selector of commands.flatMap(selectorsOf)) {
    seen.set(selectorKey(selector), seen.get(selectorKey(selector)) ?? selector);
  }
  return [...seen.values()];
}

/** The order, read at most once per transaction. */
export async function orderOf(
  ctx: QueryCtx,
  found: Found,
  workOrderId: Id<"work_orders">,
): Promise<Doc<"work_orders"> | null> {
  if (!found.orders.has(workOrderId)) {
    found.orders.set(workOrderId, await ctx.db.get("work_orders", workOrderId));
  }
  return found.orders.get(workOrderId)!;
}

/** The ids of the orders a selector names, each found through an index; `budget` is how many more orders it may reach. */
async function resolve(
  ctx: QueryCtx,
  found: Found,
  applied: Applied,
  selector: WorkOrderSelector,
  budget: number,
): Promise<Id<"work_orders">[]> {
  const limit = Math.min(MAX_ORDERS_PER_SELECTOR, budget);
  const stopped = (which: string) =>
    applied.skip(`Stopped at ${which} ${describeSelector(selector)}; older ones were not considered.`);
  switch (selector.by) {
    case "id": {
      const workOrderId = ctx.db.normalizeId("work_orders", selector.workOrderId);
      const order = workOrderId === null ? null : await orderOf(ctx, found, workOrderId);
      if (order === null) {
        applied.skip(`No work order ${selector.workOrderId}.`);
        return [];
      }
      return [order._id];
    }
    case "target": {
      // Newest first, finished orders dropped before counting (rule 1 attaches only to live ones).
      const targets = await ctx.db
        .query("work_order_targets")
        .withIndex("by_targetRepo_targetBranch", (q) =>
          q.eq("targetRepo", selector.targetRepo).eq("targetBranch", selector.targetBranch),
        )
        .order("desc")
        .take(MAX_TARGETS_SCANNED + 1);
      const ids: Id<"work_orders">[] = [];
      for (const [scanned, target] of targets.entries()) {
        if (ids.length === limit || scanned === MAX_TARGETS_SCANNED) {
          stopped(ids.length === limit ? `the ${limit} most recent live` : `the ${MAX_TARGETS_SCANNED} most recent`);
          break;
        }
        const order = await orderOf(ctx, found, target.workOrderId);
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
        .order("desc")
        .take(limit + 1);
      if (links.length > limit) {
        stopped(`the ${limit} most recent`);
      }
      return links.slice(0, limit).map((link) => {
        const known = found.knownLinks.get(link.workOrderId) ?? new Map<string, Id<"work_order_links">>();
        known.set(linkKey(link), link._id);
        found.knownLinks.set(link.workOrderId, known);
        return link.workOrderId;
      });
    }
  }
}

/** Resolves every selector of the delivery once, before any command changes anything. */
export async function resolveAll(ctx: QueryCtx, found: Found, applied: Applied, selectors: WorkOrderSelector[]) {
  let reachable = MAX_ORDERS_RESOLVED;
  if (selectors.length > MAX_SELECTORS) {
    applied.skip(
      `The delivery names ${selectors.length} sets of work orders; the first ${MAX_SELECTORS} were considered.`,
    );
  }
  for (const selector of selectors.slice(0, MAX_SELECTORS)) {
    if (reachable === 0) {
      applied.skip(
        `Not considered, the delivery having reached ${MAX_ORDERS_RESOLVED} work orders in all: ${describeSelector(selector)}.`,
      );
      continue;
    }
    const ids = await resolve(ctx, found, applied, selector, reachable);
    reachable -= ids.length;
    found.reached.set(selectorKey(selector), ids);
  }
}

/** The orders any of these selectors reached, each once. */
export function ordersOf(found: Found, selectors: WorkOrderSelector[]): Set<Id<"work_orders">> {
  return new Set(selectors.flatMap((selector) => found.reached.get(selectorKey(selector)) ?? []));
}
