import { defineTable } from "convex/server";
import { v, type GenericValidator } from "convex/values";
import { vSelectableLinkKind } from "../platform/validators";

/*
 * The derived indexes of live work orders (part of convex/schema.ts).
 */

/** A live order's row of a derived index: these fields, and its order, by which it is found and deleted. */
function liveRow<const Fields extends Record<string, GenericValidator>>(fields: Fields) {
  return defineTable({ workOrderId: v.id("work_orders"), ...fields }).index("by_workOrderId", ["workOrderId"]);
}

export const liveOrderTables = {
  // Derived indexes of LIVE (not terminal) work orders, so that a webhook
  // finds the live orders of a branch or a pull request newest first without
  // reading finished ones (docs/architecture.md): each row repeats a fact
  // kept in work_order_targets / work_order_links (or the order's
  // requestedBy, for work_order_live_requesters), and exists exactly while
  // its order is live. Written only by convex/model/workOrders/liveIndex.ts, from the
  // choke points that change an order's target, links or liveness
  // (createWorkOrder, upsertTarget, addLinks, changeStatus: deleted when the
  // order becomes terminal); rebuilt for older orders by migrations.ts.
  // `orderCreatedAt` is the order's createdAt, which ranks them.
  work_order_live_targets: liveRow({ targetRepo: v.string(), targetBranch: v.string(), orderCreatedAt: v.number() }).index(
    "by_targetRepo_targetBranch_orderCreatedAt",
    ["targetRepo", "targetBranch", "orderCreatedAt"],
  ),

  // The issues and pull requests a live order is linked to (the links rule 3
  // follows), its first MAX_LIVE_LINKS_PER_ORDER of them; as above.
  work_order_live_links: liveRow({ kind: vSelectableLinkKind, value: v.string(), orderCreatedAt: v.number() }).index(
    "by_kind_value_orderCreatedAt",
    ["kind", "value", "orderCreatedAt"],
  ),

  // The requester (requestedBy) of each live order, as above: a user's live
  // orders are counted through by_requestedBy, reading no order, at most
  // JANGAR_MAX_LIVE_ORDERS rows (convex/model/workOrders/orders.ts).
  work_order_live_requesters: liveRow({ requestedBy: v.string() }).index(
    "by_requestedBy",
    ["requestedBy"],
  ),
};
