import { afterEach, beforeEach, expect, vi } from "vitest";
import { api } from "../convex/_generated/api";
import type { Id, TableNames } from "../convex/_generated/dataModel";
import schema from "../convex/schema";
import type { Backend } from "./backend";
import { asService, asUser } from "./callers";

type ErrorData = { code: string; message: string; [field: string]: unknown };

/** Awaits a call that must fail with a ConvexError of this contract code, and returns its data. */
export async function expectConvexError(call: Promise<unknown>, code: string): Promise<ErrorData> {
  const error: unknown = await call.then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(error, `expected the call to fail with ${code}`).not.toBeNull();
  const data = (error as { data?: ErrorData }).data;
  expect(data?.code, `error was: ${String(error)}`).toBe(code);
  expect(data?.message.length).toBeGreaterThan(10);
  return data as ErrorData;
}

/** Awaits a call that Convex's argument validation must refuse; `detail` is what the message names. */
export async function expectValidatorError(call: Promise<unknown>, detail: RegExp) {
  const error: unknown = await call.then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(String(error)).toMatch(/Validator error/);
  expect(String(error)).toMatch(detail);
}

/** Every document of every table: to check that a failed call changed nothing. */
export async function snapshotTables(t: Backend): Promise<Record<string, unknown[]>> {
  return await t.run(async (ctx) => {
    const tables: Record<string, unknown[]> = {};
    for (const table of Object.keys(schema.tables) as TableNames[]) {
      tables[table] = await ctx.db.query(table).collect();
    }
    return tables;
  });
}

/** The inbox's own tables: what storing a delivery writes, whatever its effects. */
export const INBOX_TABLES: readonly TableNames[] = ["webhook_deliveries", "delivery_counters", "delivery_attempts", "delivery_conflicts"];

/** Every table but the inbox's own: what a delivery's effects would change. */
export async function domainTables(t: Backend): Promise<Record<string, unknown[]>> {
  const tables = await snapshotTables(t);
  for (const table of INBOX_TABLES) {
    delete tables[table];
  }
  return tables;
}

/** Runs a call that must fail, and checks that no document was added, changed or removed. */
export async function expectNothingWritten(t: Backend, call: () => Promise<unknown>) {
  const before = await snapshotTables(t);
  await call();
  expect(await snapshotTables(t)).toEqual(before);
}

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

/**
 * For a test file whose tests run on a fake clock (scheduled functions run
 * when a test settles them): fake timers before each test; after it, real
 * ones, and the environment, globals and spies as they were.
 */
export function withFakeClock(options?: Parameters<typeof vi.useFakeTimers>[0]) {
  beforeEach(() => {
    vi.useFakeTimers(options);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllEnvs();
    vi.unstubAllGlobals();
    vi.restoreAllMocks();
  });
}
