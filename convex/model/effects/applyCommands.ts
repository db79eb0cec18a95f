import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx } from "../../_generated/server";
import type { Command, Interpretation, WorkOrderSelector } from "../../../src/commands";
import type { StatusSource } from "../../../src/workOrders/status";
import { touchWorkOrder } from "../workOrders/updatedAt";
import { budget } from "../platform/budget";
import { COMMAND_COST, LINKED_ORDER_COST } from "./budget";
import { writeLinks } from "./linkPlan";
import { githubCommands } from "./githubCommands";
import { messageCommands } from "./messageCommands";
import { orderCommands } from "./orderCommands";
import { personCommands } from "./personCommands";
import type { Applied } from "./report";
import { distinctSelectors, nothingFound, orderOf, resolveAll, selectorKey, selectorsNotConsidered } from "./selectors";
import { OutOfRoom, senderOrigin, unit, type CommandOf, type Handler, type Handlers, type Progress, type Run } from "./units";

/**
 * What each command does, one family of commands per file. A command type
 * without a handler here, or a handler that does not say how its work is
 * counted in units, does not compile. Links are gathered by their handler
 * and written after the other commands, per order, in as many transactions
 * as they need (writeLinks).
 */
const handlers: Handlers = { ...orderCommands, ...messageCommands, ...githubCommands, ...personCommands };

/**
 * The orders earlier transactions of the delivery resolved, by selector: a
 * continuation, even one that reads the body otherwise and starts its units
 * again, never decides again which orders the delivery concerns
 * (docs/contract.md#trust-boundary).
 */
function resolvedEarlier(progress: Progress | null, selectors: WorkOrderSelector[]): Map<string, Id<"work_orders">[]> {
  if (progress === null) {
    return new Map();
  }
  // By position: the selectors resolved so far are the units after the first (the notes').
  const keys = progress.selectors ?? selectors.slice(0, Math.max(0, progress.unitsDone - 1)).map(selectorKey);
  return new Map(keys.map((key, i) => [key, progress.resolved[i] ?? []]));
}

/** Runs a command's handler: one counted as a single unit enters it first, and is skipped when an earlier transaction did it. */
async function handle<T extends Command["type"]>(run: Run, type: T, command: CommandOf<T>): Promise<void> {
  const handler: Handler<CommandOf<T>> = handlers[type];
  if (handler.units === "perOrder") {
    await handler.apply(run, command);
  } else if (await unit(run, COMMAND_COST)) {
    await handler.apply(run, command);
  }
}

/**
 * Executes a delivery's commands, whoever sent them, through the helpers the
 * public functions use: a link is added once, a status moves only forward, a
 * sender's message is appended once. Every selector is resolved once per
 * delivery, before any command changes anything, so every command reaches
 * the same orders, in every transaction of the delivery.
 *
 * The work is a sequence of units (resolving a selector, a status change on
 * one order, a message, ...) and then the links, each unit within a budget
 * of the transaction's limits. When the next does not fit, the returned
 * progress says where the next transaction starts; that transaction plans
 * the same units again (they are deterministic, given `progress`), skips
 * the ones done and carries on. Nothing a sender sent can make this throw
 * for a bad value: such a command is skipped, with the reason.
 */
export async function applyCommands(
  ctx: MutationCtx,
  interpretation: Extract<Interpretation, { kind: "commands" }>,
  origin: { source: StatusSource; actor: string },
  applied: Applied,
  progress: Progress | null,
): Promise<Progress | null> {
  const run: Run = {
    ctx,
    origin,
    applied,
    found: nothingFound(),
    linkPlan: new Map(),
    statusChanged: new Set(),
    unitsMet: 0,
    unitsDone: progress?.unitsDone ?? 0,
    unitsDoneHere: 0,
  };
  const { commands } = interpretation;
  const selectors = distinctSelectors(commands);
  const where = (linksDone: number): Progress => {
    const keys = selectors.map(selectorKey).filter((key) => run.found.reached.has(key));
    return { resolved: keys.map((key) => run.found.reached.get(key)!), selectors: keys, unitsDone: run.unitsDone, linksDone };
  };
  try {
    if (await unit(run, budget({}))) {
      const notConsidered = selectorsNotConsidered(selectors);
      for (const note of [...(interpretation.skipped ?? []), ...(notConsidered === null ? [] : [notConsidered])]) {
        applied.skip(note);
      }
    }
    await resolveAll(ctx, run.found, applied, selectors, resolvedEarlier(progress, selectors), (cost) => unit(run, cost));
    for (const command of commands) {
      await handle(run, command.type, command);
    }
  } catch (error) {
    if (error instanceof OutOfRoom) {
      return where(0);
    }
    throw error;
  }
  // An order that gained links has its updatedAt moved (at most once a minute), unless its status moved it here.
  const touched = async (order: Doc<"work_orders">) => {
    if (!run.statusChanged.has(order._id)) {
      await touchWorkOrder(ctx, order);
    }
  };
  const linksDone = await writeLinks(ctx, run.linkPlan, progress?.linksDone ?? 0, {
    applied,
    known: run.found.knownLinks,
    orderOf: (workOrderId) => orderOf(ctx, run.found, workOrderId),
    touched,
    perOrder: LINKED_ORDER_COST,
    firstInTransaction: run.unitsDoneHere === 0,
    origin: senderOrigin(run),
  });
  return linksDone === null ? null : where(linksDone);
}
