import type { Doc, Id } from "../../_generated/dataModel";
import type { QueryCtx } from "../../_generated/server";
import { describeSelector, type Command, type WorkOrderSelector } from "../../../src/commands";
import type { Applied } from "./report";
import { budget, type Budget } from "../platform/budget";
import { ORDER_BYTES, VALUE_ROW_BYTES } from "./budget";
import { linkKey } from "../workOrders/links";

/*
 * Which work orders a delivery concerns (docs/contract.md#github-x-github-event): each
 * selector of its commands resolved once, through an index, within bounds
 * so that no crowd of orders can hide one or push a delivery past a
 * transaction's limits. Rules 1 and 3 read the derived indexes of live
 * orders (convex/model/workOrders/liveIndex.ts), newest created first, so a finished
 * order is never read to be dropped: a selector reaches at most
 * MAX_ORDERS_PER_SELECTOR orders, and a delivery resolves at most
 * MAX_SELECTORS distinct selectors and MAX_ORDERS_RESOLVED orders in all.
 */
const MAX_ORDERS_PER_SELECTOR = 100;
export const MAX_SELECTORS = 25;
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

// Rows read to resolve a selector by value: the rows reached, and one to know whether there are more.
const ROWS_PER_SCAN = MAX_ORDERS_PER_SELECTOR + 1;

/** The most a selector's resolving reads. */
export function resolvingCost(selector: WorkOrderSelector): Budget {
  switch (selector.by) {
    case "id":
      return budget({ bytesRead: ORDER_BYTES, documentsRead: 1, databaseQueries: 1 });
    case "target":
      return budget({ bytesRead: ROWS_PER_SCAN * VALUE_ROW_BYTES, documentsRead: ROWS_PER_SCAN, databaseQueries: 1 });
    case "link":
      // The live orders linked to it, then the link rows themselves.
      return budget({ bytesRead: 2 * ROWS_PER_SCAN * VALUE_ROW_BYTES, documentsRead: 2 * ROWS_PER_SCAN, databaseQueries: 2 });
  }
}

/** The ids of the orders a selector names, each found through an index; `budget` is how many more orders it may reach. */
async function resolve(
  ctx: QueryCtx,
  found: Found,
  applied: Applied,
  selector: WorkOrderSelector,
  reachable: number,
): Promise<Id<"work_orders">[]> {
  const limit = Math.min(MAX_ORDERS_PER_SELECTOR, reachable);
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
      // Rule 1 attaches only to live orders: their index holds nothing else, newest created first.
      const live = await ctx.db
        .query("work_order_live_targets")
        .withIndex("by_targetRepo_targetBranch_orderCreatedAt", (q) =>
          q.eq("targetRepo", selector.targetRepo).eq("targetBranch", selector.targetBranch),
        )
        .order("desc")
        .take(limit + 1);
      if (live.length > limit) {
        stopped(`the ${limit} most recent live`);
      }
      return live.slice(0, limit).map((row) => row.workOrderId);
    }
    case "link": {
      // Live orders first, newest created first, so that no crowd of finished orders hides one.
      const { kind, value } = selector;
      // Commits are not a selector's kind (rule 3 follows issues and pull requests); they would have no live rows.
      const live =
        kind === "commit"
          ? []
          : await ctx.db
              .query("work_order_live_links")
              .withIndex("by_kind_value_orderCreatedAt", (q) => q.eq("kind", kind).eq("value", value))
              .order("desc")
              .take(limit + 1);
      if (live.length > limit) {
        stopped(`the ${limit} most recent live`);
        return live.slice(0, limit).map((row) => row.workOrderId);
      }
      // Then, while room is left, the others (finished orders, and live ones linked to more
      // issues and pull requests than their index holds), most recently linked first. Each
      // order has one row of this link, so the live ones' rows are among these.
      const reached = new Set(live.map((row) => row.workOrderId));
      const room = limit - live.length;
      const links = await ctx.db
        .query("work_order_links")
        .withIndex("by_kind_value", (q) => q.eq("kind", kind).eq("value", value))
        .order("desc")
        .take(live.length + room + 1);
      const others = links.filter((link) => !reached.has(link.workOrderId));
      if (others.length > room) {
        stopped(`the ${live.length} live and ${room} most recently linked other`);
      }
      for (const link of links) {
        const known = found.knownLinks.get(link.workOrderId) ?? new Map<string, Id<"work_order_links">>();
        known.set(linkKey(link), link._id);
        found.knownLinks.set(link.workOrderId, known);
      }
      return [...reached, ...others.slice(0, room).map((link) => link.workOrderId)];
    }
  }
}

/**
 * Resolves the delivery's selectors in order, before any command changes
 * anything. A selector an earlier transaction of the delivery resolved
 * (`earlier`, by selectorKey) keeps the orders it reached then, whatever
 * has changed since (orders it moved out of the live indexes, a deploy
 * that reads the body otherwise). `unit` says whether a selector's unit is
 * this transaction's, and leaves the rest to a later transaction when its
 * reads do not fit.
 */
export async function resolveAll(
  ctx: QueryCtx,
  found: Found,
  applied: Applied,
  selectors: WorkOrderSelector[],
  earlier: ReadonlyMap<string, Id<"work_orders">[]>,
  unit: (cost: Budget) => Promise<boolean>,
) {
  let reachable = MAX_ORDERS_RESOLVED;
  for (const selector of selectors.slice(0, MAX_SELECTORS)) {
    const decided = earlier.get(selectorKey(selector));
    const here = await unit(decided === undefined ? resolvingCost(selector) : budget({}));
    let ids: Id<"work_orders">[];
    if (decided !== undefined || !here) {
      ids = decided ?? [];
    } else if (reachable === 0) {
      applied.skip(
        `Not considered, the delivery having reached ${MAX_ORDERS_RESOLVED} work orders in all: ${describeSelector(selector)}.`,
      );
      ids = [];
    } else {
      ids = await resolve(ctx, found, applied, selector, reachable);
    }
    reachable -= ids.length;
    found.reached.set(selectorKey(selector), ids);
  }
}

/** The note a delivery naming more selectors than are considered keeps, or null. */
export function selectorsNotConsidered(selectors: WorkOrderSelector[]): string | null {
  return selectors.length > MAX_SELECTORS
    ? `The delivery names ${selectors.length} sets of work orders; the first ${MAX_SELECTORS} were considered.`
    : null;
}

/** The orders any of these selectors reached, each once. */
export function ordersOf(found: Found, selectors: WorkOrderSelector[]): Set<Id<"work_orders">> {
  return new Set(selectors.flatMap((selector) => found.reached.get(selectorKey(selector)) ?? []));
}
