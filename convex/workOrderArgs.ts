import { v } from "convex/values";
import { callerMutation } from "./model/callers";
import { upsertArg } from "./model/args";
import { requireWorkOrder } from "./model/workOrders";

export const upsert = callerMutation({
  args: { workOrderId: v.id("work_orders"), name: v.string(), value: v.any() },
  returns: v.id("work_order_args"),
  handler: async (ctx, { workOrderId, name, value }) => {
    const order = await requireWorkOrder(ctx, ctx.caller, workOrderId);
    return await upsertArg(ctx, order, { name, value });
  },
});
