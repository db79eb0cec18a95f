/**
 * A model of workOrders:get: what it must return for the writes made,
 * built without the code under test; and the clock those writes are made on.
 */
import type { Value } from "convex/values";
import { beforeEach, expect, vi } from "vitest";
import type { Id } from "../../../convex/_generated/dataModel";
import { TOUCH_INTERVAL_MS } from "../../../convex/model/workOrders/updatedAt";
import { withFakeClock } from "../clock";
import type { LinkKind } from "./arbitraries";
import type { Target } from "./crowds";

// The server's clock is driven by the test, one second per call, so that
// createdAt and updatedAt can be predicted exactly.
export const START = Date.UTC(2025, 0, 6, 9, 0, 0);
export const TICK_MS = 1000;

/** A fake Date, at START when each test begins. */
export function withClockAtStart() {
  withFakeClock({ toFake: ["Date"] });
  beforeEach(() => {
    vi.setSystemTime(START);
  });
}

export type ExpectedOrder = {
  _id: Id<"work_orders">;
  sessionId: Id<"chat_sessions">;
  workflowType: string;
  prompt: string;
  title: string;
  status: "draft" | "submitted";
  requestedBy: string;
  createdAt: number;
  updatedAt: number;
  args: Map<string, Value>;
  argIds: Map<string, Id<"work_order_args">>;
  target: Target | null;
  targetId: Id<"work_order_targets"> | null;
  links: { kind: LinkKind; value: string; linkId: Id<"work_order_links"> }[];
};

/** An arg, target or link change moves the order's updatedAt at most once a minute (docs/contract.md#trust-boundary). */
export function touch(order: { updatedAt: number }, at: number) {
  if (at - order.updatedAt >= TOUCH_INTERVAL_MS) {
    order.updatedAt = at;
  }
}

/** Convex value equality: -0 is not 0, 1n is not 1, NaN is NaN, field order does not matter. */
export function sameConvexValue(a: Value, b: Value): boolean {
  if (typeof a === "number" && typeof b === "number") {
    return Object.is(a, b);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((item, i) => sameConvexValue(item, b[i]))
    );
  }
  if (a !== null && b !== null && typeof a === "object" && typeof b === "object") {
    const aFields = Object.keys(a);
    const bFields = Object.keys(b as object);
    return (
      aFields.length === bFields.length &&
      aFields.every(
        (field) =>
          Object.hasOwn(b, field) &&
          sameConvexValue(
            (a as Record<string, Value>)[field],
            (b as Record<string, Value>)[field],
          ),
      )
    );
  }
  return a === b;
}

/**
 * A different Convex value that JSON would print the same (0 and -0, 3 and
 * 3n, also inside arrays and objects), or undefined when there is none.
 */
export function twinOf(value: Value): Value | undefined {
  if (typeof value === "number") {
    if (Object.is(value, 0)) return -0;
    if (Object.is(value, -0)) return 0;
    return Number.isSafeInteger(value) ? BigInt(value) : undefined;
  }
  if (typeof value === "bigint") {
    return BigInt(Number(value)) === value ? Number(value) : undefined;
  }
  if (Array.isArray(value)) {
    const i = value.findIndex((item) => twinOf(item) !== undefined);
    return i < 0 ? undefined : value.map((item, j) => (j === i ? (twinOf(item) as Value) : item));
  }
  if (value !== null && typeof value === "object" && !(value instanceof ArrayBuffer)) {
    const fields = value as Record<string, Value>;
    const field = Object.keys(fields).find((key) => twinOf(fields[key]) !== undefined);
    return field === undefined ? undefined : { ...fields, [field]: twinOf(fields[field]) as Value };
  }
  return undefined;
}

export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function expectedGet(order: ExpectedOrder) {
  return {
    _id: order._id,
    _creationTime: expect.any(Number),
    sessionId: order.sessionId,
    workflowType: order.workflowType,
    prompt: order.prompt,
    title: order.title,
    status: order.status,
    requestedBy: order.requestedBy,
    createdAt: order.createdAt,
    updatedAt: order.updatedAt,
    args: [...order.args.keys()].sort(byCodeUnits).map((name) => ({ name, value: order.args.get(name) })),
    target: order.target,
    links: order.links.map(({ kind, value }) => ({ kind, value })),
  };
}
