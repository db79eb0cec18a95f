import { convexToJson, type Value } from "convex/values";
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx } from "../../_generated/server";
import { LIMITS } from "../../../src/limits";
import { checkStorableField } from "../../../src/storable";
import { checkText } from "../../../src/text";
import { invalidArgument, valueOf } from "../platform/errors";
import { checkLaunchInputWith } from "./launchInput";
import type { WorkOrderArg } from "./shapes";
import { touchWorkOrder } from "./updatedAt";

/** An arg as it will be stored: a name without control characters or surrounding spaces, a storable value. */
export function checkArg(arg: WorkOrderArg): WorkOrderArg {
  const name = valueOf(checkText("arg name", arg.name, { maxChars: LIMITS.argNameChars }));
  // eslint-disable-next-line no-control-regex
  if (name !== name.trim() || /[\x00-\x1f\x7f]/.test(name)) {
    throw invalidArgument(
      `arg name ${JSON.stringify(name)} must not have control characters or surrounding spaces.`,
    );
  }
  const value = valueOf(checkStorableField(`arg ${name}`, arg.value, LIMITS.valueBytes));
  return { name, value };
}

/** Checks a whole list of args, as passed to workOrders:create. */
export function checkArgList(args: WorkOrderArg[]): WorkOrderArg[] {
  if (args.length > LIMITS.argsPerWorkOrder) {
    throw invalidArgument(
      `A work order takes at most ${LIMITS.argsPerWorkOrder} args; got ${args.length}.`,
    );
  }
  const checked = args.map(checkArg);
  const names = new Set<string>();
  for (const { name } of checked) {
    if (names.has(name)) {
      throw invalidArgument(`arg ${JSON.stringify(name)} is given twice; each name may appear once.`);
    }
    names.add(name);
  }
  return checked;
}

function sameValue(a: Value, b: Value): boolean {
  return JSON.stringify(convexToJson(a)) === JSON.stringify(convexToJson(b));
}

/** Sets one arg of a work order; setting the value it already has writes nothing. */
export async function upsertArg(
  ctx: MutationCtx,
  order: Doc<"work_orders">,
  arg: WorkOrderArg,
): Promise<Id<"work_order_args">> {
  const { name, value } = checkArg(arg);
  // The order's args are read once: to find this one, to count them, and to size the launch input.
  const rows = await ctx.db
    .query("work_order_args")
    .withIndex("by_workOrderId_name", (q) => q.eq("workOrderId", order._id))
    .take(LIMITS.argsPerWorkOrder);
  const existing = rows.find((row) => row.name === name) ?? null;
  if (existing !== null && sameValue(existing.value, value)) {
    return existing._id;
  }
  if (existing === null && rows.length >= LIMITS.argsPerWorkOrder) {
    throw invalidArgument(
      `Work order ${order._id} already has ${rows.length} args, the most it may have; change an existing one instead.`,
    );
  }
  await checkLaunchInputWith(ctx, order, { arg: { name, value } }, rows);
  let argId: Id<"work_order_args">;
  if (existing === null) {
    argId = await ctx.db.insert("work_order_args", { workOrderId: order._id, name, value });
  } else {
    argId = existing._id;
    await ctx.db.patch("work_order_args", argId, { value });
  }
  await touchWorkOrder(ctx, order);
  return argId;
}
