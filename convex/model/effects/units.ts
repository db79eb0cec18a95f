import type { Id } from "../../_generated/dataModel";
import type { MutationCtx } from "../../_generated/server";
import type { Command } from "../../../src/commands";
import type { StatusSource } from "../../../src/workOrders/status";
import { fits, type Budget } from "../platform/budget";
import type { ChangeOrigin } from "../platform/callers";
import type { LinkPlan } from "./linkPlan";
import type { Applied } from "./report";
import type { Found } from "./selectors";

/*
 * A delivery's commands are applied as a sequence of units of work
 * (resolving a selector, a status change on one order, a message, ...),
 * each within a budget of the transaction's limits. Every transaction of
 * the delivery meets the same units in the same order, numbered from 0: the
 * ones an earlier transaction did only plan, and the first that does not
 * fit is left to the next transaction.
 */

/**
 * Where a delivery that did not fit one transaction stands: the orders each
 * selector reached (as far as resolved), how many units of work before its
 * links are done, and how many links are written. `selectors` names the
 * selector (selectorKey) of each `resolved` entry; rows written before it
 * was kept have their entries by position in the same reading.
 */
export type Progress = { resolved: Id<"work_orders">[][]; selectors?: string[]; unitsDone: number; linksDone: number };

/** Thrown by `unit` when the next unit of work does not fit this transaction: the delivery continues in the next. */
export class OutOfRoom extends Error {}

/** What every command's handler acts with: the transaction, who the delivery speaks for, and its report. */
export type Acting = {
  ctx: MutationCtx;
  /** `actor` names the delivery (`slack:<trigger_id>`, `github:<key>`). */
  origin: { source: StatusSource; actor: string };
  applied: Applied;
};

/** A delivery's changes, as events out tell them: from its source, never a service's own call. */
export function senderOrigin(acting: Pick<Acting, "origin">): ChangeOrigin {
  return { source: acting.origin.source, byService: false };
}

/** One transaction's work on a delivery's commands. */
export type Run = Acting & {
  found: Found;
  linkPlan: LinkPlan;
  /** Orders whose status changed in this transaction: their updatedAt moved with it. */
  statusChanged: Set<Id<"work_orders">>;
  /** Units this transaction has met so far: the number of the next one. */
  unitsMet: number;
  /** Units done by the delivery's transactions so far, this one included: the units numbered below are not done again. */
  unitsDone: number;
  /** Units done by this transaction alone: one that can do none fails instead of going round. */
  unitsDoneHere: number;
};

/**
 * Enters the next unit of work of the delivery: false when an earlier
 * transaction did it (replayed: the unit only plans, it writes nothing);
 * true when it is this transaction's to do, its cost fitting what is left;
 * otherwise OutOfRoom, before anything of the unit is written.
 */
export async function unit(run: Run, cost: Budget): Promise<boolean> {
  const position = run.unitsMet;
  run.unitsMet += 1;
  if (position < run.unitsDone) {
    return false;
  }
  if (!(await fits(run.ctx, cost))) {
    if (run.unitsDoneHere === 0) {
      // Not one unit fits: a later transaction would fare no better.
      throw new Error("This transaction has no room left within Convex's limits for the delivery's next step.");
    }
    throw new OutOfRoom();
  }
  run.unitsDone = position + 1;
  run.unitsDoneHere += 1;
  return true;
}

export type CommandOf<T extends Command["type"]> = Extract<Command, { type: T }>;

/**
 * A command's handler, with how its work is counted in units, stated where
 * it is written: `one`, the command is one unit, entered before the handler
 * runs (which then gets no Run, so it cannot count units of its own); or
 * `perOrder`, the handler enters a unit for each order it acts on (or none).
 */
export type Handler<C> =
  | { units: "one"; apply: (acting: Acting, command: C) => Promise<void> }
  | { units: "perOrder"; apply: (run: Run, command: C) => Promise<void> };

/** Every command type's handler: a type without one, or a handler that does not say how it counts, does not compile. */
export type Handlers = { [T in Command["type"]]: Handler<CommandOf<T>> };
