import { ConvexError } from "convex/values";
import type { Check } from "../../../src/check";
import type { WorkOrderStatus } from "../../../src/workOrders/status";

/*
 * The error codes of the contract (UNAUTHENTICATED, NOT_FOUND,
 * INVALID_ARGUMENT, INVALID_TRANSITION, RESOURCE_EXHAUSTED). Every error a caller can act on is a
 * ConvexError whose data carries one of them and a message saying what to fix.
 */

export function unauthenticated() {
  return new ConvexError({
    code: "UNAUTHENTICATED" as const,
    message:
      "Sign in first: this function needs a user token or a service identity listed in JANGAR_SERVICE_IDENTITIES.",
  });
}

/** NOT_FOUND naming the record; `hint` says what a user caller may have to fix (the same whether it exists or not). */
export function notFound(what: string, hint?: string) {
  return new ConvexError({
    code: "NOT_FOUND" as const,
    message: `${what} does not exist or is not yours.${hint === undefined ? "" : ` ${hint}`}`,
  });
}

/** The record, or NOT_FOUND naming it (`what`): a record the caller may not see is missing to it. */
export function foundOrThrow<T>(record: T | null, what: string, hint?: string): T {
  if (record === null) {
    throw notFound(what, hint);
  }
  return record;
}

export function invalidArgument(message: string) {
  return new ConvexError({ code: "INVALID_ARGUMENT" as const, message });
}

/** A user holds as much as a setting allows: the message names the setting. */
export function resourceExhausted(message: string) {
  return new ConvexError({ code: "RESOURCE_EXHAUSTED" as const, message });
}

export function invalidTransition(
  from: WorkOrderStatus,
  to: WorkOrderStatus,
  message: string,
) {
  return new ConvexError({
    code: "INVALID_TRANSITION" as const,
    from,
    to,
    message,
  });
}

/** The checked value, or INVALID_ARGUMENT with the check's message. */
export function valueOf<T>(check: Check<T>): T {
  if (!check.ok) {
    throw invalidArgument(check.message);
  }
  return check.value;
}
