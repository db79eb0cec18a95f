import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import type { Backend } from "./backend";
import { asService, asUser } from "./callers";

/** Sessions and work orders made, and read back, as Jangar's server and its users do. */

export async function newSession(t: Backend, userId: string, title = "Fix the login page") {
  return await asUser(t, userId).mutation(api.chatSessions.create, { title });
}

export async function newWorkOrder(
  t: Backend,
  sessionId: Id<"chat_sessions">,
  fields: Partial<{
    status: "draft" | "submitted";
    args: { name: string; value: unknown }[];
    target: { targetRepo: string; targetBranch: string };
    title: string;
  }> = {},
) {
  return await asService(t).mutation(api.workOrders.create, {
    sessionId,
    workflowType: "codex-implement",
    prompt: "Make the login page accept SSO.",
    title: fields.title ?? "SSO login",
    status: fields.status,
    args: fields.args,
    target: fields.target,
  });
}

/** A work order of Alice's, in a session of hers. */
export async function alicesOrder(t: Backend) {
  return await newWorkOrder(t, await newSession(t, "alice"));
}

/** Every status change recorded for a work order, oldest first. */
export async function statusHistory(t: Backend, workOrderId: Id<"work_orders">) {
  return await t.run(
    async (ctx) =>
      await ctx.db
        .query("work_order_status_changes")
        .withIndex("by_workOrderId_changedAt", (q) => q.eq("workOrderId", workOrderId))
        .collect(),
  );
}

/** The first page of a list, larger than any list a test makes. */
export const FIRST_PAGE = { numItems: 100, cursor: null };

/** A work order as Jangar's server reads it (workOrders:get): the lossless join. */
export async function orderOf(t: Backend, workOrderId: Id<"work_orders">) {
  const order = await asService(t).query(api.workOrders.get, { workOrderId });
  if (order === null) {
    throw new Error(`No work order ${workOrderId}.`);
  }
  return order;
}

export async function linksOf(t: Backend, workOrderId: Id<"work_orders">) {
  return (await orderOf(t, workOrderId)).links;
}

export async function statusOf(t: Backend, workOrderId: Id<"work_orders">) {
  return (await orderOf(t, workOrderId)).status;
}

/** A session's messages as Jangar's server reads them, oldest first. */
export async function messagesOf(t: Backend, sessionId: Id<"chat_sessions">) {
  return (await asService(t).query(api.chatMessages.listBySession, { sessionId, paginationOpts: FIRST_PAGE })).page;
}
