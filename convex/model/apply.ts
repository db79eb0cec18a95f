import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import type { Command, InboundMessage, WorkOrderSelector } from "../../src/commands";
import { LIMITS } from "../../src/limits";
import { checkText } from "../../src/text";
import { isTerminal, type StatusSource } from "../../src/workOrders/status";
import { checkMessage, type NewMessage } from "./chatMessages";
import { createSession } from "./chatSessions";
import { addLinks, type WorkOrderLink } from "./links";
import { appendFromSender, mirroredMessage } from "./messageOrigins";
import { bindThread, boundSession } from "./slackThreads";
import { changeStatus } from "./status";

/** A record a command changed. */
export type Touched = { table: string; id: string; change: string };

/** What applying a delivery's commands did, and what it asked for but did not do, and why. */
export type Applied = { touched: Touched[]; skipped: string[] };

// Bounds on how many work orders one selector may reach: a branch or an
// issue shared by more orders than this is a misconfiguration, not a workload.
const MAX_ORDERS_PER_SELECTOR = 100;

/** The ids of the orders a selector names, each read through an index. */
async function resolve(ctx: MutationCtx, selector: WorkOrderSelector, applied: Applied): Promise<Id<"work_orders">[]> {
  switch (selector.by) {
    case "id": {
      const workOrderId = ctx.db.normalizeId("work_orders", selector.workOrderId);
      const order = workOrderId === null ? null : await ctx.db.get("work_orders", workOrderId);
      if (order === null) {
        applied.skipped.push(`No work order ${selector.workOrderId}.`);
        return [];
      }
      return [order._id];
    }
    case "target": {
      const targets = await ctx.db
        .query("work_order_targets")
        .withIndex("by_targetRepo_targetBranch", (q) =>
          q.eq("targetRepo", selector.targetRepo).eq("targetBranch", selector.targetBranch),
        )
        .take(MAX_ORDERS_PER_SELECTOR);
      const ids: Id<"work_orders">[] = [];
      for (const target of targets) {
        const order = await ctx.db.get("work_orders", target.workOrderId);
        // Rule 1 only attaches to orders still in progress.
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
        .take(MAX_ORDERS_PER_SELECTOR);
      return links.map((link) => link.workOrderId);
    }
  }
}

/** A sender's message as it would be stored, or null (and the reason skipped) when it cannot be. */
function checkInbound(message: InboundMessage, applied: Applied): NewMessage | null {
  const checked = checkMessage(message);
  if (!checked.ok) {
    applied.skipped.push(`Message ${message.externalId} not appended: ${checked.message}`);
    return null;
  }
  return checked.value;
}

/** Appends a sender's checked message to a session, once. */
async function appendInbound(
  ctx: MutationCtx,
  session: Doc<"chat_sessions">,
  externalId: string,
  message: NewMessage,
  applied: Applied,
) {
  const messageId = await appendFromSender(ctx, session, externalId, message);
  if (messageId !== null) {
    applied.touched.push({ table: "chat_messages", id: messageId, change: `appended ${externalId} to session ${session._id}` });
  }
}

/**
 * Executes commands, whoever sent them, through the helpers the public
 * functions use: a link is added once, a status moves only forward, a
 * sender's message is appended once. Each work-order selector is resolved
 * once, before any command changes anything, so every command of a delivery
 * reaches the same orders; links are added first, then the other commands in
 * their order. Nothing a sender sent can make this throw for a bad value:
 * such a command is skipped, with the reason.
 */
export async function applyCommands(
  ctx: MutationCtx,
  commands: Command[],
  origin: { source: StatusSource; actor: string },
): Promise<Applied> {
  const applied: Applied = { touched: [], skipped: [] };
  const resolved = new Map<string, Id<"work_orders">[]>();
  for (const command of commands) {
    if (command.type === "addLink" || command.type === "changeStatus") {
      for (const selector of command.workOrders) {
        const key = JSON.stringify(selector);
        if (!resolved.has(key)) {
          resolved.set(key, await resolve(ctx, selector, applied));
        }
      }
    }
  }
  const ordersOf = (selectors: WorkOrderSelector[]) =>
    new Set(selectors.flatMap((selector) => resolved.get(JSON.stringify(selector))!));

  // Links first, gathered per order so that each order is read and touched once
  // however many links a delivery brings (a push may carry 2,048 commits).
  const linksByOrder = new Map<Id<"work_orders">, WorkOrderLink[]>();
  for (const command of commands) {
    if (command.type === "addLink") {
      for (const workOrderId of ordersOf(command.workOrders)) {
        const links = linksByOrder.get(workOrderId) ?? [];
        links.push(command.link);
        linksByOrder.set(workOrderId, links);
      }
    }
  }
  for (const [workOrderId, links] of linksByOrder) {
    const order = (await ctx.db.get("work_orders", workOrderId))!;
    for (const { link, linkId, added } of await addLinks(ctx, order, links)) {
      if (added) {
        applied.touched.push({
          table: "work_order_links",
          id: linkId,
          change: `linked ${link.kind} ${link.value} to work order ${workOrderId}`,
        });
      }
    }
  }

  for (const command of commands) {
    switch (command.type) {
      case "addLink":
        break; // Applied above, per order.
      case "changeStatus":
        for (const workOrderId of ordersOf(command.workOrders)) {
          const order = (await ctx.db.get("work_orders", workOrderId))!;
          const outcome = await changeStatus(ctx, order, {
            to: command.to,
            source: origin.source,
            actorKind: "service",
            actor: origin.actor,
            reason: command.reason,
          });
          if (outcome.kind === "changed") {
            applied.touched.push({ table: "work_orders", id: workOrderId, change: `status ${order.status} -> ${command.to}` });
          } else if (outcome.kind === "refused") {
            applied.skipped.push(`Work order ${workOrderId}: status ${command.to} not applied: ${outcome.message}`);
          }
        }
        break;
      case "appendMessage": {
        const sessionId = ctx.db.normalizeId("chat_sessions", command.sessionId);
        const session = sessionId === null ? null : await ctx.db.get("chat_sessions", sessionId);
        const message = checkInbound(command.message, applied);
        if (session === null) {
          applied.skipped.push(`No chat session ${command.sessionId}.`);
        } else if (message !== null) {
          await appendInbound(ctx, session, command.message.externalId, message, applied);
        }
        break;
      }
      case "startSlackThread": {
        const message = checkInbound(command.message, applied);
        if (message === null) {
          break;
        }
        let session = await boundSession(ctx, command.thread);
        if (session === null) {
          const title = checkText("title", command.title, { maxChars: LIMITS.titleChars });
          if (!title.ok) {
            applied.skipped.push(`Slack thread ${command.thread.threadTs} not started: ${title.message}`);
            break;
          }
          const sessionId = await createSession(ctx, { userId: command.userId, title: title.value });
          await bindThread(ctx, command.thread, sessionId);
          applied.touched.push({
            table: "chat_sessions",
            id: sessionId,
            change: `started for Slack thread ${command.thread.channel}/${command.thread.threadTs}`,
          });
          session = (await ctx.db.get("chat_sessions", sessionId))!;
        }
        await appendInbound(ctx, session, command.message.externalId, message, applied);
        break;
      }
      case "appendSlackMessage": {
        const session = await boundSession(ctx, command.thread);
        const message = checkInbound(command.message, applied);
        if (session === null) {
          applied.skipped.push(`Slack thread ${command.thread.channel}/${command.thread.threadTs} is not bound to a chat session.`);
        } else if (message !== null) {
          await appendInbound(ctx, session, command.message.externalId, message, applied);
        }
        break;
      }
      case "editMessage": {
        const mirrored = await mirroredMessage(ctx, command.externalId);
        const content = checkText("content", command.content, { maxBytes: LIMITS.contentBytes });
        if (mirrored === null) {
          applied.skipped.push(`Message ${command.externalId} is not mirrored here.`);
        } else if (!content.ok) {
          applied.skipped.push(`Message ${command.externalId} not edited: ${content.message}`);
        } else if (mirrored.origin.editVersion !== undefined && mirrored.origin.editVersion >= command.version) {
          applied.skipped.push(`Message ${command.externalId} already has this or a later edit.`);
        } else {
          await ctx.db.patch("chat_messages", mirrored.message._id, { content: content.value });
          await ctx.db.patch("chat_message_origins", mirrored.origin._id, { editVersion: command.version });
          applied.touched.push({ table: "chat_messages", id: mirrored.message._id, change: `edited ${command.externalId}` });
        }
        break;
      }
      case "removeMessage": {
        const mirrored = await mirroredMessage(ctx, command.externalId);
        if (mirrored === null) {
          applied.skipped.push(`Message ${command.externalId} is not mirrored here.`);
        } else {
          await ctx.db.delete("chat_messages", mirrored.message._id);
          await ctx.db.patch("chat_message_origins", mirrored.origin._id, { removedAt: Date.now() });
          applied.touched.push({ table: "chat_messages", id: mirrored.message._id, change: `removed ${command.externalId}` });
        }
        break;
      }
    }
  }
  return applied;
}
