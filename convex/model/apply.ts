import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import type { Command, InboundMessage, Interpretation, WorkOrderSelector } from "../../src/commands";
import { LIMITS } from "../../src/limits";
import { checkText } from "../../src/text";
import { canonicalLinkValue } from "../../src/workOrders/links";
import type { StatusSource } from "../../src/workOrders/status";
import type { Applied } from "./applied";
import { checkMessage, type NewMessage } from "./chatMessages";
import { createSession } from "./chatSessions";
import { budget, COMMAND_COST, fits, LINKED_ORDER_COST, STATUS_CHANGE_COST, type Budget } from "./budget";
import {
  distinctSelectors,
  nothingFound,
  orderOf,
  ordersOf,
  resolveAll,
  selectorKey,
  selectorsNotConsidered,
  type Found,
} from "./correlation";
import { planLink, writeLinks, type LinkPlan } from "./linkPlan";
import { appendFromSender, mirroredMessage } from "./messageOrigins";
import { orderActions } from "./orderActions";
import { bindThread, boundSession } from "./slack/threads";
import { changeStatus } from "./status";
import { touchWorkOrder } from "./touch";

/**
 * Where a delivery that did not fit one transaction stands: the orders each
 * selector reached (as far as resolved), how many units of work before its
 * links are done, and how many links are written. `selectors` names the
 * selector (selectorKey) of each `resolved` entry; rows written before it
 * was kept have their entries by position in the same reading.
 */
export type Progress = { resolved: Id<"work_orders">[][]; selectors?: string[]; stepsDone: number; linksDone: number };

/**
 * The orders earlier transactions of the delivery resolved, by selector: a
 * continuation, even one that reads the body otherwise and starts its units
 * again, never decides again which orders the delivery concerns
 * (docs/contract.md#hardening-rules-v3).
 */
function resolvedEarlier(progress: Progress | null, selectors: WorkOrderSelector[]): Map<string, Id<"work_orders">[]> {
  if (progress === null) {
    return new Map();
  }
  // By position: the selectors resolved so far are the units after the first (the notes').
  const keys = progress.selectors ?? selectors.slice(0, Math.max(0, progress.stepsDone - 1)).map(selectorKey);
  return new Map(keys.map((key, i) => [key, progress.resolved[i] ?? []]));
}

/** Thrown by `unit` when the next unit of work does not fit this transaction: the delivery continues in the next. */
class OutOfRoom extends Error {}

/** One transaction's work on a delivery's commands. */
type Run = {
  ctx: MutationCtx;
  origin: { source: StatusSource; actor: string };
  applied: Applied;
  found: Found;
  linkPlan: LinkPlan;
  /** Orders whose status changed in this transaction: their updatedAt moved with it. */
  statusChanged: Set<Id<"work_orders">>;
  /** Units of work, numbered in the order every transaction of the delivery meets them. */
  nextUnit: number;
  /** Units done by this delivery's transactions so far (earlier ones and this one). */
  stepsDone: number;
  /** Units done by this transaction: one that can do none fails instead of going round. */
  doneHere: number;
};

/**
 * Enters the next unit of work of the delivery: false when an earlier
 * transaction did it (replayed: the unit only plans, it writes nothing);
 * true when it is this transaction's to do, its cost fitting what is left;
 * otherwise OutOfRoom, before anything of the unit is written.
 */
async function unit(run: Run, cost: Budget): Promise<boolean> {
  const position = run.nextUnit;
  run.nextUnit += 1;
  if (position < run.stepsDone) {
    return false;
  }
  if (!(await fits(run.ctx, cost))) {
    if (run.doneHere === 0) {
      // Not one unit fits: a later transaction would fare no better.
      throw new Error("This transaction has no room left within Convex's limits for the delivery's next step.");
    }
    throw new OutOfRoom();
  }
  run.stepsDone = position + 1;
  run.doneHere += 1;
  return true;
}

// Commands whose handlers take a unit per order they act on (or none), rather than one for the command.
const UNITS_PER_ORDER: ReadonlySet<Command["type"]> = new Set(["addLink", "changeStatus"]);

/** A sender's message as it would be stored, or null (and the reason skipped) when it cannot be. */
function checkInbound(run: Run, message: InboundMessage): NewMessage | null {
  const checked = checkMessage(message);
  if (!checked.ok) {
    run.applied.skip(`Message ${message.externalId} not appended: ${checked.message}`);
    return null;
  }
  return checked.value;
}

/** Appends a sender's checked message to a session, once. */
async function appendInbound(run: Run, session: Doc<"chat_sessions">, externalId: string, message: NewMessage) {
  const messageId = await appendFromSender(run.ctx, session, externalId, message);
  if (messageId !== null) {
    run.applied.touch("chat_messages", messageId, `appended ${externalId} to session ${session._id}`);
  }
}

type CommandOf = { [T in Command["type"]]: Extract<Command, { type: T }> };
type Handlers = { [T in Command["type"]]: (run: Run, command: CommandOf[T]) => Promise<void> };

/**
 * What each command does. A command type without a handler here does not
 * compile. Links are gathered here and written after the other commands,
 * per order, in as many transactions as they need (writeLinks).
 */
const handlers: Handlers = {
  addLink: async (run, command) => {
    // Planned in every transaction of the delivery (the links are written last); noted once.
    const value = canonicalLinkValue(command.link.kind, command.link.value);
    const noted = await unit(run, budget({}));
    if (!value.ok) {
      if (noted) {
        run.applied.skip(`${command.link.kind} link not added: ${value.message}`);
      }
      return;
    }
    for (const workOrderId of ordersOf(run.found, command.workOrders)) {
      planLink(run.linkPlan, workOrderId, { kind: command.link.kind, value: value.value });
    }
  },
  changeStatus: async (run, command) => {
    for (const workOrderId of ordersOf(run.found, command.workOrders)) {
      const order = (await unit(run, STATUS_CHANGE_COST)) ? await orderOf(run.ctx, run.found, workOrderId) : null;
      if (order === null) {
        continue;
      }
      if (command.leavesDrafts === true && order.status === "draft") {
        run.applied.skip(`Work order ${workOrderId} is a draft: the merged pull request is linked to it, and it stays a draft.`);
        continue;
      }
      const outcome = await changeStatus(run.ctx, order, {
        to: command.to,
        source: run.origin.source,
        actorKind: "service",
        actor: run.origin.actor,
        reason: command.reason,
      });
      if (outcome.kind === "changed") {
        run.statusChanged.add(workOrderId);
        // What later units of this transaction read of the order is what it now is.
        run.found.orders.set(workOrderId, { ...order, status: command.to, updatedAt: Date.now() });
        run.applied.touch("work_orders", workOrderId, `status ${order.status} -> ${command.to}`);
      } else if (outcome.kind === "refused") {
        run.applied.skip(`Work order ${workOrderId}: status ${command.to} not applied: ${outcome.message}`);
      }
    }
  },
  appendMessage: async (run, command) => {
    const sessionId = run.ctx.db.normalizeId("chat_sessions", command.sessionId);
    const session = sessionId === null ? null : await run.ctx.db.get("chat_sessions", sessionId);
    const message = checkInbound(run, command.message);
    if (session === null) {
      run.applied.skip(`No chat session ${command.sessionId}.`);
    } else if (message !== null) {
      await appendInbound(run, session, command.message.externalId, message);
    }
  },
  startSlackThread: async (run, command) => {
    const message = checkInbound(run, command.message);
    if (message === null) {
      return;
    }
    let session = await boundSession(run.ctx, command.thread);
    if (session === null) {
      const title = checkText("title", command.title, { maxChars: LIMITS.titleChars });
      if (!title.ok) {
        run.applied.skip(`Slack thread ${command.thread.threadTs} not started: ${title.message}`);
        return;
      }
      const sessionId = await createSession(run.ctx, { userId: command.userId, title: title.value });
      await bindThread(run.ctx, command.thread, sessionId);
      run.applied.touch(
        "chat_sessions",
        sessionId,
        `started for Slack thread ${command.thread.channel}/${command.thread.threadTs}`,
      );
      session = (await run.ctx.db.get("chat_sessions", sessionId))!;
    }
    await appendInbound(run, session, command.message.externalId, message);
  },
  appendSlackMessage: async (run, command) => {
    const session = await boundSession(run.ctx, command.thread);
    const message = checkInbound(run, command.message);
    if (session === null) {
      run.applied.skip(
        `Slack thread ${command.thread.channel}/${command.thread.threadTs} is not bound to a chat session.`,
      );
    } else if (message !== null) {
      await appendInbound(run, session, command.message.externalId, message);
    }
  },
  editMessage: async (run, command) => {
    const mirrored = await mirroredMessage(run.ctx, command.externalId);
    const content = checkText("content", command.content, { maxBytes: LIMITS.contentBytes });
    if (mirrored === null) {
      run.applied.skip(`Message ${command.externalId} is not mirrored here.`);
    } else if (!content.ok) {
      run.applied.skip(`Message ${command.externalId} not edited: ${content.message}`);
    } else if (mirrored.origin.editVersion !== undefined && mirrored.origin.editVersion >= command.version) {
      run.applied.skip(`Message ${command.externalId} already has this or a later edit.`);
    } else {
      await run.ctx.db.patch("chat_messages", mirrored.message._id, { content: content.value });
      await run.ctx.db.patch("chat_message_origins", mirrored.origin._id, { editVersion: command.version });
      run.applied.touch("chat_messages", mirrored.message._id, `edited ${command.externalId}`);
    }
  },
  removeMessage: async (run, command) => {
    const mirrored = await mirroredMessage(run.ctx, command.externalId);
    if (mirrored === null) {
      run.applied.skip(`Message ${command.externalId} is not mirrored here.`);
    } else {
      await run.ctx.db.delete("chat_messages", mirrored.message._id);
      await run.ctx.db.patch("chat_message_origins", mirrored.origin._id, { removedAt: Date.now() });
      run.applied.touch("chat_messages", mirrored.message._id, `removed ${command.externalId}`);
    }
  },
  cancelWorkOrder: async (run, command) => await orderActions.cancel(run, command),
  retryWorkOrder: async (run, command) => await orderActions.retry(run, command),
  listWorkOrders: async (run, command) => await orderActions.list(run, command),
  showWorkOrder: async (run, command) => await orderActions.show(run, command),
};

/** Runs a command's handler; a command not acting per order is one unit of work. */
async function handle<T extends Command["type"]>(run: Run, type: T, command: CommandOf[T]): Promise<void> {
  if (UNITS_PER_ORDER.has(type) || (await unit(run, COMMAND_COST))) {
    await handlers[type](run, command);
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
    nextUnit: 0,
    stepsDone: progress?.stepsDone ?? 0,
    doneHere: 0,
  };
  const { commands } = interpretation;
  const selectors = distinctSelectors(commands);
  const where = (linksDone: number): Progress => {
    const keys = selectors.map(selectorKey).filter((key) => run.found.reached.has(key));
    return { resolved: keys.map((key) => run.found.reached.get(key)!), selectors: keys, stepsDone: run.stepsDone, linksDone };
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
    firstInTransaction: run.doneHere === 0,
  });
  return linksDone === null ? null : where(linksDone);
}
