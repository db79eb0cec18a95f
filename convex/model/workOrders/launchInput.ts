import { convexToJson, type JSONValue } from "convex/values";
import { internal } from "../../_generated/api";
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../_generated/server";
import { accept, reject, type Check } from "../../../src/check";
import { LIMITS } from "../../../src/limits";
import { utf8Length } from "../../../src/text";
import { allowedWorkflowTypes, launchConfig, temporalConfig } from "../platform/config";
import { valueOf } from "../platform/errors";
import type { WorkOrderArg, WorkOrderTarget } from "./shapes";

/*
 * What the launcher sends Temporal for an order (docs/contract.md section 5),
 * and the rules that keep it launchable: a workflow type this deployment
 * runs, and an input that fits Temporal's payload limits.
 */

/**
 * The most an order's launch input may weigh, as JSON. Temporal refuses
 * payloads over 2 MB by default and request bodies over 4 MB; the input
 * travels base64-encoded, so 1 MiB leaves room for both.
 */
export const MAX_LAUNCH_INPUT_BYTES = 1024 * 1024;

/** The workflow's one argument: the order's prompt, args (sorted by name) and target. */
export type LaunchInput = {
  workOrderId: Id<"work_orders">;
  prompt: string;
  args: { name: string; value: JSONValue }[];
  target: WorkOrderTarget | null;
};

/** The workflow type, when JANGAR_WORKFLOW_TYPES allows it (or is unset); else why not. */
export function checkWorkflowType(workflowType: string): Check<string> {
  const allowed = allowedWorkflowTypes();
  if (allowed === null || allowed.includes(workflowType)) {
    return accept(workflowType);
  }
  return reject(
    `workflowType ${JSON.stringify(workflowType)} is not one this deployment runs: JANGAR_WORKFLOW_TYPES allows ${
      allowed.length === 0 ? "none" : allowed.join(", ")
    }.`,
  );
}

/** The launch input of an order made of these parts; arg values in Convex's JSON form, so int64 and bytes survive JSON. */
export function launchInput(
  workOrderId: Id<"work_orders">,
  prompt: string,
  args: WorkOrderArg[],
  target: WorkOrderTarget | null,
): LaunchInput {
  return { workOrderId, prompt, args: args.map(({ name, value }) => ({ name, value: convexToJson(value) })), target };
}

/** The launch input, when it fits MAX_LAUNCH_INPUT_BYTES; else why not, naming its size. */
export function checkLaunchInput(input: LaunchInput): Check<LaunchInput> {
  const bytes = utf8Length(JSON.stringify(input));
  return bytes <= MAX_LAUNCH_INPUT_BYTES
    ? accept(input)
    : reject(
        `Work order ${input.workOrderId}'s launch input (prompt, args and target as JSON) would be ${bytes} bytes; the limit is ${MAX_LAUNCH_INPUT_BYTES} (1 MiB), so that Temporal accepts it. Shorten the prompt or the args.`,
      );
}

/** INVALID_ARGUMENT, naming the size, when the launch input is over MAX_LAUNCH_INPUT_BYTES. */
export function checkLaunchInputSize(input: LaunchInput) {
  valueOf(checkLaunchInput(input));
}

/** The order's args sorted by name, and its target (or null): what a launch needs, and what the join shows. */
export async function argsAndTarget(ctx: QueryCtx, workOrderId: Id<"work_orders">) {
  const args = await argsOf(ctx, workOrderId);
  return { args: args.map(({ name, value }) => ({ name, value })), target: await targetOf(ctx, workOrderId) };
}

/** The order's arg rows, sorted by name: at most LIMITS.argsPerWorkOrder (checked when they are written). */
async function argsOf(ctx: QueryCtx, workOrderId: Id<"work_orders">) {
  return await ctx.db
    .query("work_order_args")
    .withIndex("by_workOrderId_name", (q) => q.eq("workOrderId", workOrderId))
    .take(LIMITS.argsPerWorkOrder);
}

/** The order's target (or null), as the launch input carries it. */
async function targetOf(ctx: QueryCtx, workOrderId: Id<"work_orders">): Promise<WorkOrderTarget | null> {
  const target = await ctx.db
    .query("work_order_targets")
    .withIndex("by_workOrderId", (q) => q.eq("workOrderId", workOrderId))
    .unique();
  return target === null ? null : { targetRepo: target.targetRepo, targetBranch: target.targetBranch };
}

/** The launch input of a stored order: its args (by name) and target, read through their indexes; links are not part of it. */
export async function launchInputOf(ctx: QueryCtx, order: Doc<"work_orders">): Promise<LaunchInput> {
  const { args, target } = await argsAndTarget(ctx, order._id);
  return launchInput(order._id, order.prompt, args, target);
}

/**
 * Checks that the order's launch input stays within bounds once `change` is
 * made: an arg set (replacing one of that name), or the target replaced.
 * `knownArgs` are the order's args when the caller has read them already.
 */
export async function checkLaunchInputWith(
  ctx: QueryCtx,
  order: Doc<"work_orders">,
  change: { arg: WorkOrderArg } | { target: WorkOrderTarget },
  knownArgs?: WorkOrderArg[],
) {
  const current = (knownArgs ?? (await argsOf(ctx, order._id))).map(({ name, value }) => ({ name, value }));
  const args = "arg" in change ? [...current.filter(({ name }) => name !== change.arg.name), change.arg] : current;
  const target = "target" in change ? change.target : await targetOf(ctx, order._id);
  checkLaunchInputSize(launchInput(order._id, order.prompt, args, target));
}

/**
 * An order that became submitted is launched on Temporal, when this
 * deployment launches (TEMPORAL_HTTP_URL and TEMPORAL_TASK_QUEUE set);
 * otherwise another launcher owns it and nothing is scheduled.
 */
export async function scheduleLaunch(ctx: MutationCtx, workOrderId: Id<"work_orders">) {
  if (launchConfig() !== null) {
    await ctx.scheduler.runAfter(0, internal.launcher.launch, { workOrderId });
  }
}

/**
 * A canceled order's workflow is asked to cancel, when this deployment talks
 * to Temporal (TEMPORAL_HTTP_URL set): by a scheduled action, retried while
 * Temporal cannot take it (convex/launcher.ts, cancelRun). The order's
 * status is not touched: it is canceled already.
 */
export async function scheduleCancel(ctx: MutationCtx, workOrderId: Id<"work_orders">, reason: string) {
  if (temporalConfig() !== null) {
    await ctx.scheduler.runAfter(0, internal.launcher.cancelRun, { workOrderId, reason });
  }
}
