import { v } from "convex/values";
import schema from "./schema";
import { callerMutation } from "./model/platform/callers";
import { upsertArg } from "./model/workOrders/args";
import { requireWorkOrder } from "./model/workOrders/orders";

export const upsert = callerMutation({
  args: schema.tables.work_order_args.validator.fields,
  returns: v.id("work_order_args"),
  handler: async (ctx, { workOrderId, name, value }) => {
    const order = await requireWorkOrder(ctx, ctx.caller, workOrderId);
    return await upsertArg(ctx, order, { name, value });
  },
});
