import { v } from "convex/values";
import { callerMutation } from "./model/callers";
import { upsertTarget } from "./model/targets";
import { requireWorkOrder } from "./model/workOrders";

export const upsert = callerMutation({
  args: { workOrderId: v.id("work_orders"), targetRepo: v.string(), targetBranch: v.string() },
  returns: v.id("work_order_targets"),
  handler: async (ctx, { workOrderId, ...target }) => {
    const order = await requireWorkOrder(ctx, ctx.caller, workOrderId);
    return await upsertTarget(ctx, order, target);
  },
});
