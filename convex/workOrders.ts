import { paginationOptsValidator, paginationResultValidator } from "convex/server";
import { v } from "convex/values";
import schema from "./schema";
import { oneOf } from "../src/check";
import { WORK_ORDER_STATUSES } from "../src/workOrders/status";
import { actorName, attributedUser, callerMutation, callerQuery, callOrigin, emptyPage, notAServiceHint } from "./model/platform/callers";
import { findSession, requireSession } from "./model/chat/sessions";
import { invalidTransition, valueOf } from "./model/platform/errors";
import { checkWorkflowType } from "./model/workOrders/launchInput";
import { changeStatus } from "./model/workOrders/status";
import { vWorkOrderStatus } from "./model/platform/validators";
import { vArg, vLink, vTarget } from "./model/workOrders/shapes";
import { assembleWorkOrder } from "./model/workOrders/join";
import { createWorkOrder, findWorkOrder, listWorkOrders, requireWorkOrder } from "./model/workOrders/orders";

const vWorkOrder = schema.doc("work_orders");

export const create = callerMutation({
  args: {
    ...schema.tables.work_orders.validator.pick("sessionId", "workflowType", "prompt", "title").fields,
    // Bad values of status (here and in updateStatus) are INVALID_ARGUMENT, checked in the handler.
    status: v.optional(v.string()),
    requestedBy: v.optional(v.string()),
    args: v.optional(v.array(vArg)),
    target: v.optional(vTarget),
  },
  returns: v.id("work_orders"),
  handler: async (ctx, { sessionId, requestedBy, status, args, target, ...fields }) => {
    const initial = valueOf(oneOf("status", status ?? "submitted", ["draft", "submitted"] as const));
    valueOf(checkWorkflowType(fields.workflowType));
    const session = await requireSession(ctx, ctx.caller, sessionId);
    return await createWorkOrder(
      ctx,
      session,
      {
        ...fields,
        status: initial,
        requestedBy: attributedUser(ctx.caller, "requestedBy", requestedBy, session.userId),
        args: args ?? [],
        target: target ?? null,
      },
      { ...callOrigin(ctx.caller), actor: actorName(ctx.caller) },
    );
  },
});

export const updateStatus = callerMutation({
  args: {
    workOrderId: v.id("work_orders"),
    status: v.string(),
    reason: v.optional(v.string()),
  },
  returns: v.object({ status: vWorkOrderStatus, changed: v.boolean() }),
  handler: async (ctx, { workOrderId, status: requested, reason }) => {
    const status = valueOf(oneOf("status", requested, WORK_ORDER_STATUSES));
    const order = await requireWorkOrder(ctx, ctx.caller, workOrderId);
    const outcome = await changeStatus(ctx, order, {
      to: status,
      source: "api",
      actorKind: ctx.caller.kind,
      actor: actorName(ctx.caller),
      reason,
    });
    if (outcome.kind === "refused") {
      const hint = outcome.reservedForServices && ctx.caller.kind === "user" ? ` ${notAServiceHint(ctx.caller)}` : "";
      throw invalidTransition(order.status, status, outcome.message + hint);
    }
    return { status: outcome.status, changed: outcome.kind === "changed" };
  },
});

export const listBySession = callerQuery({
  args: { sessionId: v.id("chat_sessions"), paginationOpts: paginationOptsValidator },
  returns: paginationResultValidator(vWorkOrder),
  handler: async (ctx, { sessionId, paginationOpts }) => {
    const session = await findSession(ctx, ctx.caller, sessionId);
    return session === null ? emptyPage() : await listWorkOrders(ctx, sessionId, paginationOpts);
  },
});

export const get = callerQuery({
  args: { workOrderId: v.id("work_orders") },
  returns: v.union(
    vWorkOrder.extend({
      args: v.array(vArg),
      target: v.union(vTarget, v.null()),
      links: v.array(vLink),
    }),
    v.null(),
  ),
  handler: async (ctx, { workOrderId }) => {
    const order = await findWorkOrder(ctx, ctx.caller, workOrderId);
    return order === null ? null : await assembleWorkOrder(ctx, order);
  },
});
