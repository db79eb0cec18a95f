import { literals } from "convex-helpers/validators";
import { v, type Infer } from "convex/values";
import type { Command, Interpretation } from "../../src/commands";
import { SOURCES } from "../../src/sources/source";
import { CHAT_ROLES } from "../../src/chat/roles";
import { LINK_KINDS } from "../../src/workOrders/links";
import { STATUS_SOURCES, WORK_ORDER_STATUSES } from "../../src/workOrders/status";

export const vWorkOrderStatus = literals(...WORK_ORDER_STATUSES);
export const vStatusSource = literals(...STATUS_SOURCES);
export const vChatRole = literals(...CHAT_ROLES);
export const vLinkKind = literals(...LINK_KINDS);
/** The kinds of link a webhook finds its orders by (rule 3): an issue's or pull request's URL. */
export const vSelectableLinkKind = literals("github_issue", "pr");

export const vSource = literals(...SOURCES);

/** Where a verified delivery stands (docs/contract.md section 3). */
export const DELIVERY_STATUSES = ["accepted", "processed", "ignored", "failed"] as const;
export const vDeliveryStatus = literals(...DELIVERY_STATUSES);

const vWorkOrderSelector = v.union(
  v.object({ by: v.literal("id"), workOrderId: v.string() }),
  v.object({ by: v.literal("target"), targetRepo: v.string(), targetBranch: v.string() }),
  v.object({ by: v.literal("link"), kind: vLinkKind, value: v.string() }),
);

const vSlackThread = v.object({ team: v.string(), channel: v.string(), threadTs: v.string() });
const vInboundMessage = v.object({
  externalId: v.string(),
  role: vChatRole,
  content: v.string(),
  metadata: v.optional(v.any()),
});

/** The validator of src/commands.ts's Command, for commands passed between functions. */
export const vCommand = v.union(
  v.object({
    type: v.literal("addLink"),
    workOrders: v.array(vWorkOrderSelector),
    link: v.object({ kind: vLinkKind, value: v.string() }),
  }),
  v.object({
    type: v.literal("changeStatus"),
    workOrders: v.array(vWorkOrderSelector),
    to: vWorkOrderStatus,
    reason: v.optional(v.string()),
  }),
  v.object({ type: v.literal("appendMessage"), sessionId: v.string(), message: vInboundMessage }),
  v.object({
    type: v.literal("startSlackThread"),
    thread: vSlackThread,
    userId: v.string(),
    title: v.string(),
    message: vInboundMessage,
  }),
  v.object({ type: v.literal("appendSlackMessage"), thread: vSlackThread, message: vInboundMessage }),
  v.object({ type: v.literal("editMessage"), externalId: v.string(), content: v.string(), version: v.string() }),
  v.object({ type: v.literal("removeMessage"), externalId: v.string() }),
);

export const vInterpretation = v.union(
  v.object({ kind: v.literal("commands"), commands: v.array(vCommand), skipped: v.optional(v.array(v.string())) }),
  v.object({ kind: v.literal("ignored"), reason: v.string() }),
);

// The validators and the pure types must describe the same values.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const commandValidatorMatchesType: Same<Infer<typeof vCommand>, Command> = true;
const interpretationValidatorMatchesType: Same<Infer<typeof vInterpretation>, Interpretation> = true;
void commandValidatorMatchesType;
void interpretationValidatorMatchesType;
