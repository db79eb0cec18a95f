import type { Doc, Id, TableNames } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import type { Command, InboundMessage, Interpretation, WorkOrderSelector } from "../../src/commands";
import { LIMITS } from "../../src/limits";
import { checkText, truncate } from "../../src/text";
import { canonicalLinkValue } from "../../src/workOrders/links";
import { isTerminal, type StatusSource } from "../../src/workOrders/status";
import { checkMessage, type NewMessage } from "./chatMessages";
import { createSession } from "./chatSessions";
import { addLinks, linkKey, MAX_LINKS_PER_ORDER, type WorkOrderLink } from "./links";
import { appendFromSender, mirroredMessage } from "./messageOrigins";
import { bindThread, boundSession } from "./slackThreads";
import { changeStatus } from "./status";
import { touchWorkOrder } from "./touch";

/** A record a command changed. */
export type Touched = { table: string; id: string; change: string };

// A delivery keeps the first KEPT records it changed and skips it noted,
// each cut to NOTE_CHARS, and counts them all: its row stays small whatever
// the sender sent.
const KEPT = 100;
const NOTE_CHARS = 300;

/** What applying a delivery did, and what it asked for but did not do, and why: bounded, with the counts. */
export class Applied {
  readonly touched: Touched[];
  readonly skipped: string[];
  touchedCount: number;
  skippedCount: number;

  /** Starts empty, or carries on from the record of the delivery's earlier transactions. */
  constructor(earlier?: { touched: Touched[]; touchedCount: number; skipped: string[]; skippedCount: number }) {
    this.touched = [...(earlier?.touched ?? [])];
    this.touchedCount = earlier?.touchedCount ?? 0;
    this.skipped = [...(earlier?.skipped ?? [])];
    this.skippedCount = earlier?.skippedCount ?? 0;
  }

  touch(table: TableNames, id: string, change: string) {
    this.touchedCount += 1;
    if (this.touched.length < KEPT) {
      this.touched.push({ table, id, change: truncate(change, NOTE_CHARS) });
    }
  }

  skip(reason: string) {
    this.skippedCount += 1;
    if (this.skipped.length < KEPT) {
      this.skipped.push(truncate(reason, NOTE_CHARS));
    }
  }
}

/*
 * Bounds on correlation (docs/contract.md section 4), so that no crowd of
 * orders can hide one or push a delivery past a transaction's limits: a
 * selector reaches at most MAX_ORDERS_PER_SELECTOR orders, the most recently
 * created first; rule 1 looks at most at MAX_TARGETS_SCANNED targets of the
 * branch to find live ones; a delivery resolves at most MAX_SELECTORS
 * distinct selectors and MAX_ORDERS_RESOLVED orders in all.
 */
const MAX_ORDERS_PER_SELECTOR = 100;
const MAX_TARGETS_SCANNED = 200;
const MAX_SELECTORS = 25;
const MAX_ORDERS_RESOLVED = 600;

// Links written per transaction. Each costs one index lookup, at most one
// document read and one written (at most LINK_BYTES each way), so with the
// reads of resolving (at most MAX_ORDERS_RESOLVED orders) a transaction stays
// well within Convex's 4,096 index ranges and 16,000 writes; fewer when the
// transaction has less left (linkRoom), keeping RESERVE for an order's
// counter shards and updatedAt and for recording the delivery.
const LINKS_PER_TRANSACTION = 1_000;
const LINK_BYTES = 2_600;
const RESERVE = 40;

/** How many more links this transaction can write, by what it has left of Convex's limits. */
async function linkRoom(ctx: MutationCtx): Promise<number> {
  const left = await ctx.meta.getTransactionMetrics();
  return (
    Math.min(
      left.databaseQueries.remaining,
      left.documentsRead.remaining,
      left.documentsWritten.remaining,
      Math.floor(left.bytesRead.remaining / LINK_BYTES),
      Math.floor(left.bytesWritten.remaining / LINK_BYTES),
    ) - RESERVE
  );
}

/** Where a delivery that did not fit one transaction stands: the orders each selector reached, and the links written. */
export type Progress = { resolved: Id<"work_orders">[][]; linksDone: number };

/** One transaction's work on a delivery's commands. */
type Run = {
  ctx: MutationCtx;
  origin: { source: StatusSource; actor: string };
  applied: Applied;
  /** A later transaction of the delivery: only links are left to write. */
  resuming: boolean;
  /** The orders each selector reached, by selectorKey. */
  reached: Map<string, Id<"work_orders">[]>;
  /** Orders read in this transaction, each read once and passed along (null: no such order). */
  orders: Map<Id<"work_orders">, Doc<"work_orders"> | null>;
  /** Link rows rule 3 found, per order, by linkKey: known to exist. */
  knownLinks: Map<Id<"work_orders">, Map<string, Id<"work_order_links">>>;
  /** Links to add, per order, each once, in the order they were asked for. */
  linkPlan: Map<Id<"work_orders">, Map<string, WorkOrderLink>>;
  /** Orders whose status changed in this transaction: their updatedAt moved with it. */
  statusChanged: Set<Id<"work_orders">>;
};

/** The work-order selectors a command names, if it concerns work orders. */
export function selectorsOf(command: Command): WorkOrderSelector[] {
  return "workOrders" in command ? command.workOrders : [];
}

function selectorKey(selector: WorkOrderSelector): string {
  return JSON.stringify(selector);
}

function describeSelector(selector: WorkOrderSelector): string {
  switch (selector.by) {
    case "id":
      return `work order ${selector.workOrderId}`;
    case "target":
      return `work orders targeting ${selector.targetRepo}:${selector.targetBranch}`;
    case "link":
      return `work orders linked to ${selector.kind} ${selector.value}`;
  }
}

/** The distinct selectors of the commands, in the order they first appear. */
function distinctSelectors(commands: Command[]): WorkOrderSelector[] {
  const seen = new Map<string, WorkOrderSelector>();
  for (const selector of commands.flatMap(selectorsOf)) {
    seen.set(selectorKey(selector), seen.get(selectorKey(selector)) ?? selector);
  }
  return [...seen.values()];
}

/** The order, read at most once per transaction. */
async function orderOf(run: Run, workOrderId: Id<"work_orders">): Promise<Doc<"work_orders"> | null> {
  if (!run.orders.has(workOrderId)) {
    run.orders.set(workOrderId, await run.ctx.db.get("work_orders", workOrderId));
  }
  return run.orders.get(workOrderId)!;
}

/** The ids of the orders a selector names, each found through an index; `budget` is how many more orders it may reach. */
async function resolve(run: Run, selector: WorkOrderSelector, budget: number): Promise<Id<"work_orders">[]> {
  const { ctx, applied } = run;
  const limit = Math.min(MAX_ORDERS_PER_SELECTOR, budget);
  const stopped = (which: string) =>
    applied.skip(`Stopped at ${which} ${describeSelector(selector)}; older ones were not considered.`);
  switch (selector.by) {
    case "id": {
      const workOrderId = ctx.db.normalizeId("work_orders", selector.workOrderId);
      const order = workOrderId === null ? null : await orderOf(run, workOrderId);
      if (order === null) {
        applied.skip(`No work order ${selector.workOrderId}.`);
        return [];
      }
      return [order._id];
    }
    case "target": {
      // Newest first, finished orders dropped before counting (rule 1 attaches only to live ones).
      const targets = await ctx.db
        .query("work_order_targets")
        .withIndex("by_targetRepo_targetBranch", (q) =>
          q.eq("targetRepo", selector.targetRepo).eq("targetBranch", selector.targetBranch),
        )
        .order("desc")
        .take(MAX_TARGETS_SCANNED + 1);
      const ids: Id<"work_orders">[] = [];
      for (const [scanned, target] of targets.entries()) {
        if (ids.length === limit || scanned === MAX_TARGETS_SCANNED) {
          stopped(ids.length === limit ? `the ${limit} most recent live` : `the ${MAX_TARGETS_SCANNED} most recent`);
          break;
        }
        const order = await orderOf(run, target.workOrderId);
        if (order !== null && !isTerminal(order.status)) {
          ids.push(order._id);
        }
      }
      return ids;
    }
    case "link": {
      const links = await ctx.db
        .query("work_order_links")
        .withIndex("by_kind_value", (q) => q.eq("kind", selector.kind).eq("value", selector.value))
        .order("desc")
        .take(limit + 1);
      if (links.length > limit) {
        stopped(`the ${limit} most recent`);
      }
      return links.slice(0, limit).map((link) => {
        const known = run.knownLinks.get(link.workOrderId) ?? new Map<string, Id<"work_order_links">>();
        known.set(linkKey(link), link._id);
        run.knownLinks.set(link.workOrderId, known);
        return link.workOrderId;
      });
    }
  }
}

/** Resolves every selector of the delivery once, before any command changes anything. */
async function resolveAll(run: Run, selectors: WorkOrderSelector[]) {
  let reachable = MAX_ORDERS_RESOLVED;
  if (selectors.length > MAX_SELECTORS) {
    run.applied.skip(
      `The delivery names ${selectors.length} sets of work orders; the first ${MAX_SELECTORS} were considered.`,
    );
  }
  for (const selector of selectors.slice(0, MAX_SELECTORS)) {
    if (reachable === 0) {
      run.applied.skip(
        `Not considered, the delivery having reached ${MAX_ORDERS_RESOLVED} work orders in all: ${describeSelector(selector)}.`,
      );
      continue;
    }
    const ids = await resolve(run, selector, reachable);
    reachable -= ids.length;
    run.reached.set(selectorKey(selector), ids);
  }
}

/** The orders any of these selectors reached, each once. */
function ordersOf(run: Run, selectors: WorkOrderSelector[]): Set<Id<"work_orders">> {
  return new Set(selectors.flatMap((selector) => run.reached.get(selectorKey(selector)) ?? []));
}

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

type CommandOf<T extends Command["type"]> = Extract<Command, { type: T }>;
type Handlers = { [T in Command["type"]]: (run: Run, command: CommandOf<T>) => Promise<void> };

/**
 * What each command does. A command type without a handler here does not
 * compile. Links are gathered here and written after the other commands,
 * per order, in as many transactions as they need (writeLinks).
 */
const handlers = {
  addLink: async (run, command) => {
    const value = canonicalLinkValue(command.link.kind, command.link.value);
    if (!value.ok) {
      if (!run.resuming) {
        run.applied.skip(`${command.link.kind} link not added: ${value.message}`);
      }
      return;
    }
    const link = { kind: command.link.kind, value: value.value };
    for (const workOrderId of ordersOf(run, command.workOrders)) {
      const planned = run.linkPlan.get(workOrderId) ?? new Map<string, WorkOrderLink>();
      planned.set(linkKey(link), link);
      run.linkPlan.set(workOrderId, planned);
    }
  },
  changeStatus: async (run, command) => {
    for (const workOrderId of ordersOf(run, command.workOrders)) {
      const order = (await orderOf(run, workOrderId))!;
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
} satisfies Handlers;

function handle<T extends Command["type"]>(run: Run, command: CommandOf<T>): Promise<void> {
  return (handlers as Handlers)[command.type as T](run, command);
}

/**
 * Writes the planned links from position `from` (counted over every order's
 * links, in plan order), as many as fit this transaction; returns where the
 * next transaction starts, or null when all are written. An order that
 * gained links has its updatedAt moved (at most once a minute), unless its
 * status changed in this transaction and moved it already.
 */
async function writeLinks(run: Run, from: number): Promise<number | null> {
  let position = 0;
  let written = 0;
  for (const [workOrderId, planned] of run.linkPlan) {
    const links = [...planned.values()];
    const start = Math.max(0, from - position);
    if (start >= links.length) {
      position += links.length;
      continue;
    }
    const room = Math.min(LINKS_PER_TRANSACTION - written, await linkRoom(run.ctx));
    if (room <= 0) {
      if (written === 0) {
        // Not one link fits: a transaction after this one would fare no better.
        throw new Error("This transaction has no room left within Convex's limits to write a link.");
      }
      return position + start;
    }
    const batch = links.slice(start, start + room);
    const outcomes = await addLinks(run.ctx, workOrderId, batch, run.knownLinks.get(workOrderId));
    let added = 0;
    for (const result of outcomes) {
      if (result.outcome === "added") {
        added += 1;
        run.applied.touch(
          "work_order_links",
          result.linkId,
          `linked ${result.link.kind} ${result.link.value} to work order ${workOrderId}`,
        );
      }
    }
    const refused = outcomes.filter((result) => result.outcome === "full").length;
    if (refused > 0) {
      run.applied.skip(
        `Work order ${workOrderId} holds ${MAX_LINKS_PER_ORDER} links, the most it may; ${refused} more not added.`,
      );
    }
    const order = added > 0 && !run.statusChanged.has(workOrderId) ? await orderOf(run, workOrderId) : null;
    if (order !== null) {
      await touchWorkOrder(run.ctx, order);
    }
    written += batch.length;
    if (start + batch.length < links.length) {
      return position + start + batch.length;
    }
    position += links.length;
  }
  return null;
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
    reached: new Map(),
    orders: new Map(),
    knownLinks: new Map(),
    linkPlan: new Map(),
    statusChanged: new Set(),
  };
  const { commands } = interpretation;
  const selectors = distinctSelectors(commands);
  if (progress === null) {
    for (const note of interpretation.skipped ?? []) {
      applied.skip(note);
    }
    await resolveAll(run, selectors);
    for (const command of commands) {
      await handle(run, command);
    }
  } else {
    // The other commands were applied by the delivery's first transaction.
    for (const [i, selector] of selectors.entries()) {
      run.reached.set(selectorKey(selector), progress.resolved[i] ?? []);
    }
    for (const command of commands) {
      if (command.type === "addLink") {
        await handle(run, command);
      }
    }
  }
  const linksDone = await writeLinks(run, progress?.linksDone ?? 0);
  return linksDone === null
    ? null
    : { resolved: selectors.map((selector) => run.reached.get(selectorKey(selector)) ?? []), linksDone };
}
