import { literals } from "convex-helpers/validators";
import { v } from "convex/values";
import { SOURCES } from "../../../src/sources/source";

// The domain's validators sit beside their lists in src/ (commands, src/commands.ts, are made of them).
export { vChatRole } from "../../../src/chat/roles";
export { vLinkKind, vSelectableLinkKind } from "../../../src/workOrders/links";
export { vStatusSource, vWorkOrderStatus } from "../../../src/workOrders/status";

export const vSource = literals(...SOURCES);

/** Where a verified delivery stands (docs/contract.md#trust-boundary). */
export const DELIVERY_STATUSES = ["accepted", "processed", "ignored", "failed"] as const;
export const vDeliveryStatus = literals(...DELIVERY_STATUSES);

/**
 * Where a retried row's attempts stand (a delivery's processing, an outbox
 * row's sending): the attempts made, when the next is due (none once
 * finished or given up), the last error, and when the row was finished.
 */
export const attemptFields = {
  attempts: v.number(),
  nextAttemptAt: v.optional(v.number()),
  error: v.optional(v.string()),
  finishedAt: v.optional(v.number()),
};
