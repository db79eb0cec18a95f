import { v } from "convex/values";
import { callerMutation } from "./model/callers";
import { addLink } from "./model/links";
import { vLinkKind } from "./model/validators";
import { requireWorkOrder } from "./model/workOrders";

export const add = callerMutation({
  args: { workOrderId: v.id("work_orders"), kind: vLinkKind, value: v.string() },
  returns: v.id("work_order_links"),
  handler: async (ctx, { workOrderId, ...link }) => {
    const order = await requireWorkOrder(ctx, ctx.caller, workOrderId);
    return (await addLink(ctx, order, link)).linkId;
  },
});
