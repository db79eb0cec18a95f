import { v } from "convex/values";
import schema from "./schema";
import { callerMutation } from "./model/platform/callers";
import { upsertTarget } from "./model/workOrders/targets";
import { requireWorkOrder } from "./model/workOrders/orders";

export const upsert = callerMutation({
  args: schema.tables.work_order_targets.validator.fields,
  returns: v.id("work_order_targets"),
  handler: async (ctx, { workOrderId, ...target }) => {
    const order = await requireWorkOrder(ctx, ctx.caller, workOrderId);
    return await upsertTarget(ctx, order, target);
  },
});
