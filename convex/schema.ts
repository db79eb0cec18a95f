import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
import {
  vChatRole,
  vLinkKind,
  vStatusSource,
  vWorkOrderStatus,
} from "./model/validators";

export default defineSchema({
  chat_sessions: defineTable({
    userId: v.string(),
    title: v.string(),
    createdAt: v.number(),
    updatedAt: v.number(),
  }).index("by_userId_updatedAt", ["userId", "updatedAt"]),

  chat_messages: defineTable({
    sessionId: v.id("chat_sessions"),
    role: vChatRole,
    content: v.string(),
    metadata: v.optional(v.any()),
    createdAt: v.number(),
  }).index("by_sessionId_createdAt", ["sessionId", "createdAt"]),

  work_orders: defineTable({
    sessionId: v.id("chat_sessions"),
    workflowType: v.string(),
    prompt: v.string(),
    title: v.string(),
    status: vWorkOrderStatus,
    requestedBy: v.string(),
    createdAt: v.number(),
    updatedAt: v.number(),
  })
    .index("by_sessionId_createdAt", ["sessionId", "createdAt"])
    .index("by_status_updatedAt", ["status", "updatedAt"]),

  // One row per (work order, name); the value is any Convex value.
  work_order_args: defineTable({
    workOrderId: v.id("work_orders"),
    name: v.string(),
    value: v.any(),
  }).index("by_workOrderId_name", ["workOrderId", "name"]),

  // At most one row per work order; targetRepo is canonical (src/workOrders/repos.ts).
  work_order_targets: defineTable({
    workOrderId: v.id("work_orders"),
    targetRepo: v.string(),
    targetBranch: v.string(),
  })
    .index("by_workOrderId", ["workOrderId"])
    .index("by_targetRepo_targetBranch", ["targetRepo", "targetBranch"]),

  // One row per (work order, kind, value); the value is canonical (src/workOrders/links.ts).
  work_order_links: defineTable({
    workOrderId: v.id("work_orders"),
    kind: vLinkKind,
    value: v.string(),
  })
    .index("by_workOrderId_kind", ["workOrderId", "kind"])
    .index("by_kind_value", ["kind", "value"]),

  // Every status a work order entered: `from` is null for the status it was created with.
  work_order_status_changes: defineTable({
    workOrderId: v.id("work_orders"),
    from: v.union(vWorkOrderStatus, v.null()),
    to: vWorkOrderStatus,
    source: vStatusSource,
    reason: v.optional(v.string()),
    actor: v.string(),
    changedAt: v.number(),
  }).index("by_workOrderId_changedAt", ["workOrderId", "changedAt"]),
});
