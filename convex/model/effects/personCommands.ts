import type { Doc, Id } from "../../_generated/dataModel";
import type { QueryCtx } from "../../_generated/server";
import type { Person } from "../../../src/commands";
import { ANSWERS, orderList, orderLine, type OrderLine } from "../../../src/slack/answers";
import { argsAndTarget } from "../workOrders/join";
import { checkLaunchInput, checkWorkflowType, launchInput } from "../workOrders/launchInput";
import { retryOf } from "../workOrders/retries";
import { orderChanged } from "../workOrders/shown";
import { copyHead } from "../github/checkRuns";
import { queueEphemeral } from "../slack/replies";
import { changeStatus } from "../workOrders/status";
import { checkLiveOrderRoom, createWorkOrder } from "../workOrders/orders";
import type { Acting, CommandOf, Handlers } from "./units";

/*
 * What a person asks of work orders from Slack
 * (docs/contract.md#slack-interactivity-cancel-and-retry-on-the-card-and-a-slash-command):
 * cancel and retry from a card's buttons, list and show from
 * the slash command. A person may act on an order whose session they own or
 * which they requested. What is refused changes nothing: the reason is
 * recorded on the delivery and told to that person alone. Cancel and Retry
 * pressed on a check run on GitHub
 * (docs/contract.md#github-both-ways-the-app-comments-in-replies-and-check-runs-out)
 * are the same commands: GitHub decided who may press them, and nobody is
 * told (a refusal is recorded on the delivery alone).
 */

/** How many orders `status` lists. */
const LISTED = 10;

/** Tells the person, them alone: an ephemeral message queued (a click), or a line of the request's own reply (a slash command). */
async function tell({ ctx, applied }: Acting, by: Person, text: string) {
  if (by.answer.via === "github") {
    return;
  }
  if (by.answer.via === "reply") {
    applied.tell(text);
    return;
  }
  const { team, channel, threadTs, user } = by.answer;
  await queueEphemeral(ctx, { team, channel, threadTs }, user, text);
}

/** Nothing changes: the delivery records why, and the person is told. */
async function refuse(acting: Acting, by: Person, text: string) {
  acting.applied.skip(`Refused to ${by.userId}: ${text}`);
  await tell(acting, by, text);
}

/** The order and its session, and whether the person may act on it; null when there is no such order. */
async function orderFor(ctx: QueryCtx, by: Person, workOrderId: string) {
  const id = ctx.db.normalizeId("work_orders", workOrderId);
  const order = id === null ? null : await ctx.db.get("work_orders", id);
  const session = order === null ? null : await ctx.db.get("chat_sessions", order.sessionId);
  if (order === null || session === null) {
    return null;
  }
  // On GitHub, whoever GitHub let press the button may act: it shows them to those with write access alone.
  const mayAct = by.answer.via === "github" || session.userId === by.userId || order.requestedBy === by.userId;
  return { order, session, mayAct };
}

/** Where a person's request came from, as the order's history records it. */
function sourceOf(by: Person) {
  return by.answer.via === "github" ? ("github" as const) : ("slack" as const);
}

/** A person may not see an order they may not act on: a slash command says it is not found; a click on its card says whose it is. */
function notTheirs(by: Person, order: Doc<"work_orders">, verb: "cancel" | "retry") {
  return by.answer.via === "reply" ? ANSWERS.notFound(order._id) : ANSWERS.notYours(order.title, verb);
}

/**
 * The change to canceled that this delivery made, when the order's last
 * change is it (canceled is final, so nothing comes after): what a replay
 * of the delivery finds.
 */
async function cancelMadeBy(ctx: QueryCtx, workOrderId: Id<"work_orders">, delivery: string) {
  const last = await ctx.db
    .query("work_order_status_changes")
    .withIndex("by_workOrderId_changedAt", (q) => q.eq("workOrderId", workOrderId))
    .order("desc")
    .first();
  return last !== null && last.to === "canceled" && last.delivery === delivery ? last : null;
}

/** The order was canceled by this delivery: recorded on it as a change, and answered (a slash command) as done. */
function canceled(acting: Acting, by: Person, order: Doc<"work_orders">, from: string) {
  acting.applied.touch("work_orders", order._id, `status ${from} -> canceled by ${by.userId}`);
  // A click is answered by its card, edited; a slash command by its reply.
  if (by.answer.via === "reply") acting.applied.tell(ANSWERS.canceled(order.title));
}

async function cancel(acting: Acting, { workOrderId, by }: CommandOf<"cancelWorkOrder">) {
  const found = await orderFor(acting.ctx, by, workOrderId);
  if (found === null) return await refuse(acting, by, ANSWERS.notFound(workOrderId));
  const { order, mayAct } = found;
  if (!mayAct) return await refuse(acting, by, notTheirs(by, order, "cancel"));
  const delivery = acting.origin.actor;
  const outcome = await changeStatus(acting.ctx, order, {
    to: "canceled",
    source: sourceOf(by),
    actorKind: "user",
    actor: by.userId,
    delivery,
    reason: by.answer.via === "github" ? "canceled from GitHub" : "canceled from Slack",
  });
  switch (outcome.kind) {
    case "changed":
      return canceled(acting, by, order, order.status);
    case "unchanged": {
      // A replay of the delivery that canceled it finds its own change: done, not refused, nobody told again.
      const own = await cancelMadeBy(acting.ctx, order._id, delivery);
      if (own !== null) return canceled(acting, by, order, own.from ?? "created");
      return await refuse(acting, by, ANSWERS.alreadyCanceled(order.title));
    }
    case "refused":
      return await refuse(acting, by, ANSWERS.notCanceled(order.title, outcome.message));
    default:
      outcome satisfies never;
  }
}

async function retry(acting: Acting, { workOrderId, by }: CommandOf<"retryWorkOrder">) {
  const { ctx } = acting;
  const found = await orderFor(ctx, by, workOrderId);
  if (found === null) return await refuse(acting, by, ANSWERS.notFound(workOrderId));
  const { order, session, mayAct } = found;
  if (!mayAct) return await refuse(acting, by, notTheirs(by, order, "retry"));
  if (order.status !== "failed") return await refuse(acting, by, ANSWERS.notFailed(order.title, order.status));
  const earlier = await retryOf(ctx, order._id);
  // A replay of the delivery that retried it finds its own retry: done, not refused, nobody told again.
  if (earlier !== null && earlier.delivery === acting.origin.actor) return retried(acting, by, order, earlier.retryId);
  if (earlier !== null) return await refuse(acting, by, ANSWERS.alreadyRetried(order.title, earlier.retryId));
  const { args, target } = await argsAndTarget(ctx, order._id);
  // Checked before anything is written, as workOrders:create checks them. Ids of one
  // table have one length, so the copy's launch input weighs what the original's does.
  // The copy is its requester's, so it counts against the requester's live orders.
  const launchable = [
    checkWorkflowType(order.workflowType),
    checkLaunchInput(launchInput(order._id, order.prompt, args, target)),
    await checkLiveOrderRoom(ctx, order.requestedBy),
  ];
  const problem = launchable.find((check) => !check.ok);
  if (problem !== undefined && !problem.ok) return await refuse(acting, by, ANSWERS.notRetried(order.title, problem.message));
  // The copy is the same order run again: its requester stays; the clicker is the retry's actor.
  const { workflowType, prompt, title, requestedBy } = order;
  const retryId = await createWorkOrder(
    ctx,
    session,
    { workflowType, prompt, title, status: "submitted", requestedBy, args, target },
    { source: sourceOf(by), byService: false, actor: by.userId, retryOf: order._id },
  );
  await ctx.db.insert("work_order_retries", {
    workOrderId: order._id,
    retryId,
    requestedBy: by.userId,
    delivery: acting.origin.actor,
    createdAt: Date.now(),
  });
  // The failed order's card and check run now say it was retried, and offer Retry no more; the copy shows on the same head commit.
  await orderChanged(ctx, order);
  await copyHead(ctx, order._id, { _id: retryId });
  retried(acting, by, order, retryId);
}

/** The order was retried by this delivery: recorded on it, and answered (a slash command) as done. */
function retried(acting: Acting, by: Person, order: Doc<"work_orders">, retryId: Id<"work_orders">) {
  acting.applied.touch("work_orders", retryId, `retry of ${order._id} by ${by.userId}`);
  if (by.answer.via === "reply") acting.applied.tell(ANSWERS.retried(order.title, retryId));
}

/** An order as an answer shows it: its first pull request, and what it was retried as. */
async function lineOf(ctx: QueryCtx, order: Doc<"work_orders">): Promise<OrderLine> {
  const pullRequest = await ctx.db
    .query("work_order_links")
    .withIndex("by_workOrderId_kind", (q) => q.eq("workOrderId", order._id).eq("kind", "pr"))
    .first();
  const retried = order.status === "failed" ? await retryOf(ctx, order._id) : null;
  return { workOrderId: order._id, title: order.title, status: order.status, pullRequest: pullRequest?.value, retriedAs: retried?.retryId };
}

async function list(acting: Acting, { by }: CommandOf<"listWorkOrders">) {
  const orders = await acting.ctx.db
    .query("work_orders")
    .withIndex("by_requestedBy_updatedAt", (q) => q.eq("requestedBy", by.userId))
    .order("desc")
    .take(LISTED);
  const lines = [];
  for (const order of orders) {
    lines.push(await lineOf(acting.ctx, order));
  }
  await tell(acting, by, orderList(lines));
}

async function show(acting: Acting, { workOrderId, by }: CommandOf<"showWorkOrder">) {
  const found = await orderFor(acting.ctx, by, workOrderId);
  const text = found === null || !found.mayAct ? ANSWERS.notFound(workOrderId) : orderLine(await lineOf(acting.ctx, found.order));
  await tell(acting, by, text);
}

/** Each a unit of work: a person's request concerns one order, or lists a bounded few. */
export const personCommands: Pick<Handlers, "cancelWorkOrder" | "retryWorkOrder" | "listWorkOrders" | "showWorkOrder"> = {
  cancelWorkOrder: { units: "one", apply: cancel },
  retryWorkOrder: { units: "one", apply: retry },
  listWorkOrders: { units: "one", apply: list },
  showWorkOrder: { units: "one", apply: show },
};
