import { expect, vi } from "vitest";
import type { Id } from "../../../convex/_generated/dataModel";
import type { Backend } from "../backend";
import { settle } from "../clock";
import type { Cost } from "../../../convex/model/platform/cost";
import { operationCost, traceExecutions, type OperationCost } from "./trace";

/**
 * The costs transactions log with JANGAR_LOG_COST, and the reconciler's page
 * lines (cost.test.ts): `captureLog()` before each test (and again after
 * `vi.restoreAllMocks()`), then `costOfCall`, `costOfDelivery` or
 * `loggedCosts` read what the work logged.
 */

/** Every line logged since the last take: the public functions' `cost {...}` and the reconciler's page lines. */
let logged: string[] = [];

/** Keeps every line logged from now on, for the readers below. */
export function captureLog() {
  logged = [];
  vi.spyOn(console, "log").mockImplementation((line: unknown) => {
    logged.push(String(line));
  });
}

/** Every line logged since the last take. */
export function takeLogged(): string[] {
  const lines = logged;
  logged = [];
  return lines;
}

/** The costs on the lines logged since the last take that `line` matches (its first group: the cost as JSON). */
export function loggedCosts(line: RegExp): Cost[] {
  return takeLogged().flatMap((text) => {
    const match = line.exec(text);
    return match ? [JSON.parse(match[1]) as Cost] : [];
  });
}

/** The cost a public function logged (JANGAR_LOG_COST) for the call `call` makes. */
export async function costOfCall(call: () => Promise<unknown>): Promise<Cost> {
  takeLogged();
  await call();
  const costs = loggedCosts(/^cost (\{.*\})$/);
  expect(costs).toHaveLength(1);
  return costs[0];
}

/** The whole-transaction cost that processing a delivery logged (JANGAR_LOG_COST); it must be processed in one. */
export async function costOfDelivery(t: Backend, post: () => Promise<{ body: Record<string, unknown> }>): Promise<Cost> {
  takeLogged();
  const { body } = await post();
  await settle(t);
  const delivery = await t.run(async (ctx) => await ctx.db.get("webhook_deliveries", body.delivery as Id<"webhook_deliveries">));
  expect(delivery?.status).toBe("processed");
  const costs = loggedCosts(/^cost delivery (\{.*\})$/);
  expect(costs).toHaveLength(1);
  return costs[0];
}

/**
 * What a whole operation ran, read and wrote: every execution from the
 * request to the last step it scheduled (trace.ts), summed. A slash command
 * is one transaction; a click is its record mutation and the apply mutation
 * it schedules.
 */
export async function costOfOperation(t: Backend, operation: () => Promise<unknown>): Promise<OperationCost> {
  await settle(t);
  const tracer = traceExecutions();
  try {
    await operation();
    await settle(t);
    return operationCost(tracer.take());
  } finally {
    tracer.stop();
  }
}

/**
 * Collects the whole-transaction costs that processing deliveries logs
 * (JANGAR_LOG_COST): call before the deliveries, then `take()` after them.
 */
export function deliveryCosts() {
  vi.stubEnv("JANGAR_LOG_COST", "1");
  captureLog();
  return { take: () => loggedCosts(/^cost delivery (\{.*\})$/) };
}
