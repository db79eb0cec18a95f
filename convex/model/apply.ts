import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import type { Command, InboundMessage, Interpretation } from "../../src/commands";
import { LIMITS } from "../../src/limits";
import { checkText } from "../../src/text";
import { canonicalLinkValue } from "../../src/workOrders/links";
import type { StatusSource } from "../../src/workOrders/status";
import type { Applied } from "./applied";
import { checkMessage, type NewMessage } from "./chatMessages";
import { createSession } from "./chatSessions";
import { distinctSelectors, nothingFound, orderOf, ordersOf, resolveAll, selectorKey, type Found } from "./correlation";
import { planLink, writeLinks, type LinkPlan } from "./linkPlan";
import { appendFromSender, mirroredMessage } from "./messageOrigins";
import { orderActions } from "./orderActions";
import { bindThread, boundSession } from "./slackThreads";
import { changeStatus } from "./status";
import { touchWorkOrder } from "./touch";

/** Where a delivery that did not fit one transaction stands: the orders each selector reached, and the links written. */
export type Progress = { resolved: Id<"work_orders">[][]; linksDone: number };

/** One transaction's work on a delivery's commands. */
type Run = {
  ctx: MutationCtx;
  origin: { source: StatusSource; actor: string };
  applied: Applied;
  /** A later transaction of the delivery: only links are left to write. */
  resuming: boolean;
  found: Found;
  linkPlan: LinkPlan;
  /** Orders whose status changed in this transaction: their updatedAt moved with it. */
  statusChanged: Set<Id<"work_orders">>;
};

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
    const value = canonicalLinkValue(command.link.kind, command.link.value);
    if (!value.ok) {
      if (!run.resuming) {
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
      const order = (await orderOf(run.ctx, run.found, workOrderId))!;
      const outcome = await changeStatus(run.ctx, order, {
        to: command.to,
        source: run.origin.source,
        actorKind: "service",
        actor: run.origin.actor,
        reason: command.reason,
      });
      if (outcome.kind === "changed") {
        run.statusChanged.add(workOrderId);
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

function handle<T extends Command["type"]>(run: Run, type: T, command: CommandOf[T]): Promise<void> {
  return handlers[type](run, command);
}

/**
 * Executes a delivery's commands, whoever sent them, through the helpers the
 * public functions use: a link is added once, a status moves only forward, a
 * sender's message is appended once. Every selector is resolved once, in the
 * first transaction, before any command changes anything, so every command
 * reaches the same orders, and documents read there are passed along. When
 * the links do not fit one transaction, the returned progress says where the
 * next one starts; it writes only links (with `progress` given). Nothing a
 * sender sent can make this throw for a bad value: such a command is
 * skipped, with the reason.
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
    resuming: progress !== null,
    found: nothingFound(),
    linkPlan: new Map(),
    statusChanged: new Set(),
  };
  const { commands } = interpretation;
  const selectors = distinctSelectors(commands);
  if (progress === null) {
    for (const note of interpretation.skipped ?? []) {
      applied.skip(note);
    }
    await resolveAll(ctx, run.found, applied, selectors);
    for (const command of commands) {
      await handle(run, command.type, command);
    }
  } else {
    // The other commands were applied by the delivery's first transaction.
    for (const [i, selector] of selectors.entries()) {
      run.found.reached.set(selectorKey(selector), progress.resolved[i] ?? []);
    }
    for (const command of commands) {
      if (command.type === "addLink") {
        await handle(run, command.type, command);
      }
    }
  }
  // An order that gained links has its updatedAt moved (at most once a minute), unless its status moved it here.
  const touched = async (workOrderId: Id<"work_orders">) => {
    const order = run.statusChanged.has(workOrderId) ? null : await orderOf(ctx, run.found, workOrderId);
    if (order !== null) {
      await touchWorkOrder(ctx, order);
    }
  };
  const linksDone = await writeLinks(ctx, run.linkPlan, progress?.linksDone ?? 0, applied, run.found.knownLinks, touched);
  return linksDone === null
    ? null
    : { resolved: selectors.map((selector) => run.found.reached.get(selectorKey(selector)) ?? []), linksDone };
}
