import { z } from "zod";
import { CHAT_ROLES } from "../../chat/roles";
import { LIMITS } from "../../limits";
import type { Check } from "../../check";
import { checkOptionalText, checkText } from "../../text";
import { canonicalLinkValue, LINK_KINDS } from "../../workOrders/links";
import { WORK_ORDER_STATUSES } from "../../workOrders/status";

// The Standard Webhooks body, and the `data` of each event this service acts on (docs/contract.md#standard-webhooks-webhooksevents-body--type-timestamp-data-).

export const envelope = z.object({
  type: z.string().min(1),
  timestamp: z.string().optional(),
  data: z.unknown(),
});

/** A zod string checked exactly as the public functions check it (src/text.ts). */
const checkedString = (check: (text: string) => Check<unknown>) =>
  z.string().superRefine((text, context) => {
    const checked = check(text);
    if (!checked.ok) context.addIssue({ code: "custom", message: checked.message });
  });

export const chatMessageCreated = z.object({
  sessionId: z.string().min(1),
  role: z.enum(CHAT_ROLES),
  content: checkedString((text) => checkText("content", text, { maxBytes: LIMITS.contentBytes })),
  // Any JSON: whether Convex can store it is decided when the message is interpreted (a skipped effect, not a 400).
  metadata: z.unknown().optional(),
});

export const workOrderStatusChanged = z.object({
  workOrderId: z.string().min(1),
  status: z.enum(WORK_ORDER_STATUSES),
  reason: checkedString((text) => checkOptionalText("reason", text, LIMITS.reasonChars)).optional(),
});

export const workOrderLinkAdded = z
  .object({ workOrderId: z.string().min(1), kind: z.enum(LINK_KINDS), value: z.string() })
  .superRefine((link, context) => {
    const value = canonicalLinkValue(link.kind, link.value);
    if (!value.ok) context.addIssue({ code: "custom", path: ["value"], message: value.message });
  });
