import type { PaginationOptions } from "convex/server";
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../_generated/server";
import { accept, reject, type Check } from "../../../src/check";
import { LIMITS } from "../../../src/limits";
import { checkText } from "../../../src/text";
import { checkArgList } from "./args";
import { mayAccess, refusalHint, type Caller, type ChangeOrigin } from "../platform/callers";
import { recordEvent } from "../events/record";
import { maxLiveOrders } from "../platform/config";
import { foundOrThrow, resourceExhausted, valueOf } from "../platform/errors";
import { checkLaunchInputSize, launchInput } from "./launchInput";
import { statusEntered } from "./status";
import { indexLiveRequester, indexLiveTarget, liveOrderCount } from "./liveIndex";
import type { WorkOrderArg, WorkOrderTarget } from "./shapes";
import { checkTarget } from "./targets";
import { pageOf } from "../platform/pages";

/** The work order, or null when it does not exist or hangs off a session the caller may not see. */
export async function findWorkOrder(ctx: QueryCtx, caller: Caller, workOrderId: Id<"work_orders">): Promise<Doc<"work_orders"> | null> {
  const order = await ctx.db.get("work_orders", workOrderId);
  if (order === null || caller.kind === "service") {
    return order;
  }
  const session = await ctx.db.get("chat_sessions", order.sessionId);
  return session !== null && mayAccess(caller, session.userId) ? order : null;
}

export async function requireWorkOrder(ctx: QueryCtx, caller: Caller, workOrderId: Id<"work_orders">) {
  return foundOrThrow(await findWorkOrder(ctx, caller, workOrderId), `Work order ${workOrderId}`, refusalHint(caller));
}

export type NewWorkOrder = Pick<Doc<"work_orders">, "workflowType" | "prompt" | "title" | "requestedBy"> & {
  status: "draft" | "submitted";
  args: WorkOrderArg[];
  target: WorkOrderTarget | null;
};

/**
 * Whether `requestedBy` may hold one more live order: a user holds at most
 * JANGAR_MAX_LIVE_ORDERS live (not terminal) orders, drafts included, so
 * that no one user can crowd a selector (docs/contract.md#hardening-rules).
 */
export async function checkLiveOrderRoom(ctx: QueryCtx, requestedBy: string): Promise<Check<null>> {
  const limit = maxLiveOrders();
  const live = await liveOrderCount(ctx, requestedBy, limit);
  return live < limit
    ? accept(null)
    : reject(
        `${requestedBy} already holds ${live} live work orders (draft, submitted, accepted or running); JANGAR_MAX_LIVE_ORDERS allows ${limit} per user. Cancel one or let one finish first, or raise JANGAR_MAX_LIVE_ORDERS.`,
      );
}

/**
 * Writes a work order with its args, target and first status (statusEntered:
 * its history row, its launch, its card) in one transaction, and its event
 * (`retryOf`: the failed order it runs again). Everything is checked before
 * the first write, so a bad arg leaves nothing behind; an order past its
 * requester's JANGAR_MAX_LIVE_ORDERS is RESOURCE_EXHAUSTED.
 */
export async function createWorkOrder(
  ctx: MutationCtx,
  session: Doc<"chat_sessions">,
  input: NewWorkOrder,
  origin: ChangeOrigin & { actor: string; retryOf?: Id<"work_orders"> },
): Promise<Id<"work_orders">> {
  const fields = {
    workflowType: valueOf(
      checkText("workflowType", input.workflowType, { maxChars: LIMITS.workflowTypeChars }),
    ),
    prompt: valueOf(checkText("prompt", input.prompt, { maxBytes: LIMITS.promptBytes })),
    title: valueOf(checkText("title", input.title, { maxChars: LIMITS.titleChars })),
    requestedBy: valueOf(
      checkText("requestedBy", input.requestedBy, { maxChars: LIMITS.identifierChars }),
    ),
  };
  const args = checkArgList(input.args);
  const target = input.target === null ? null : checkTarget(input.target);
  const room = await checkLiveOrderRoom(ctx, fields.requestedBy);
  if (!room.ok) {
    throw resourceExhausted(room.message);
  }

  const now = Date.now();
  const workOrderId = await ctx.db.insert("work_orders", {
    sessionId: session._id,
    ...fields,
    status: input.status,
    createdAt: now,
    updatedAt: now,
  });
  // The id is part of the launch input; throwing here undoes the insert.
  checkLaunchInputSize(launchInput(workOrderId, fields.prompt, args, target));
  for (const arg of args) {
    await ctx.db.insert("work_order_args", { workOrderId, ...arg });
  }
  await indexLiveRequester(ctx, { _id: workOrderId, status: input.status, requestedBy: fields.requestedBy });
  if (target !== null) {
    await ctx.db.insert("work_order_targets", { workOrderId, ...target });
    await indexLiveTarget(ctx, { _id: workOrderId, status: input.status, createdAt: now }, target);
  }
  const { source, actor, retryOf } = origin;
  await statusEntered(ctx, { _id: workOrderId, sessionId: session._id }, null, { to: input.status, source, actor, reason: "created" }, now);
  await recordEvent(ctx, origin, {
    type: "work_order.created",
    data: { workOrderId, sessionId: session._id, ...fields, status: input.status, source, ...(retryOf === undefined ? {} : { retryOf }) },
  });
  return workOrderId;
}

/** A session's work orders, newest first, a bounded page at a time. */
export async function listWorkOrders(ctx: QueryCtx, sessionId: Id<"chat_sessions">, options: PaginationOptions) {
  return await pageOf(ctx.db.query("work_orders").withIndex("by_sessionId_createdAt", (q) => q.eq("sessionId", sessionId)), "desc", options);
}
