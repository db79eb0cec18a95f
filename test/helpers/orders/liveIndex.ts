import { expect } from "vitest";
import type { Doc } from "../../../convex/_generated/dataModel";
import type { Backend } from "../backend";

/**
 * The derived indexes of live work orders (work_order_live_targets,
 * work_order_live_links, work_order_live_requesters), read back and compared
 * with what the orders, targets and links alone say they must hold.
 */

const TERMINAL = new Set(["succeeded", "failed", "canceled"]);
const LIVE_LINKS_PER_ORDER = 20;

type Tables = { orders: Doc<"work_orders">[]; targets: Doc<"work_order_targets">[]; links: Doc<"work_order_links">[] };

/** The rows the indexes must hold, worked out from the orders, targets and links alone. */
function expectedIndex({ orders, targets, links }: Tables) {
  const liveTargets: unknown[] = [];
  const liveLinks: unknown[] = [];
  const liveRequesters: unknown[] = [];
  for (const order of orders.filter((row) => !TERMINAL.has(row.status))) {
    liveRequesters.push({ workOrderId: order._id, requestedBy: order.requestedBy });
    const target = targets.find((row) => row.workOrderId === order._id);
    if (target !== undefined) {
      liveTargets.push({ workOrderId: order._id, targetRepo: target.targetRepo, targetBranch: target.targetBranch, orderCreatedAt: order.createdAt });
    }
    const followed = links
      .filter((row) => row.workOrderId === order._id && row.kind !== "commit")
      .sort((a, b) => a._creationTime - b._creationTime)
      .slice(0, LIVE_LINKS_PER_ORDER);
    liveLinks.push(...followed.map((row) => ({ workOrderId: order._id, kind: row.kind, value: row.value, orderCreatedAt: order.createdAt })));
  }
  return { liveTargets: sortRows(liveTargets), liveLinks: sortRows(liveLinks), liveRequesters: sortRows(liveRequesters) };
}

/** Rows as comparable text: fields in one order, rows in one order. */
function sortRows(rows: unknown[]) {
  return rows.map((row) => JSON.stringify(row, Object.keys(row as object).sort())).sort();
}

export async function tablesAndIndex(t: Backend) {
  return await t.run(async (ctx) => {
    const strip = ({ _id, _creationTime, ...row }: { _id: string; _creationTime: number }) => row;
    return {
      tables: {
        orders: await ctx.db.query("work_orders").collect(),
        targets: await ctx.db.query("work_order_targets").collect(),
        links: await ctx.db.query("work_order_links").collect(),
      },
      index: {
        liveTargets: sortRows((await ctx.db.query("work_order_live_targets").collect()).map(strip)),
        liveLinks: sortRows((await ctx.db.query("work_order_live_links").collect()).map(strip)),
        liveRequesters: sortRows((await ctx.db.query("work_order_live_requesters").collect()).map(strip)),
      },
    };
  });
}

export async function expectIndexTrue(t: Backend) {
  const { tables, index } = await tablesAndIndex(t);
  expect(index).toEqual(expectedIndex(tables));
}
