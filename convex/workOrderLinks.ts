import { v } from "convex/values";
import schema from "./schema";
import { callerMutation, callOrigin } from "./model/platform/callers";
import { addLink } from "./model/workOrders/addLinks";
import { valueOf } from "./model/platform/errors";
import { oneOf } from "../src/check";
import { LINK_KINDS } from "../src/workOrders/links";
import { requireWorkOrder } from "./model/workOrders/orders";

export const add = callerMutation({
  // kind is checked in the handler, so that an unknown kind is INVALID_ARGUMENT.
  args: { ...schema.tables.work_order_links.validator.pick("workOrderId", "value").fields, kind: v.string() },
  returns: v.id("work_order_links"),
  handler: async (ctx, { workOrderId, kind, value }) => {
    const link = { kind: valueOf(oneOf("kind", kind, LINK_KINDS)), value };
    const order = await requireWorkOrder(ctx, ctx.caller, workOrderId);
    return await addLink(ctx, order, link, callOrigin(ctx.caller));
  },
});
