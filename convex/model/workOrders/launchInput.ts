import { convexToJson, type JSONValue } from "convex/values";
import type { Doc, Id } from "../../_generated/dataModel";
import type { QueryCtx } from "../../_generated/server";
import { accept, reject, type Check } from "../../../src/check";
import { utf8Length } from "../../../src/text";
import { allowedWorkflowTypes } from "../platform/config";
import { valueOf } from "../platform/errors";
import { argsAndTarget, argsOf, targetOf } from "./join";
import type { WorkOrderArg, WorkOrderTarget } from "./shapes";

/*
 * What the launcher sends Temporal for an order (docs/contract.md#5-reconciliation-and-temporal),
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
