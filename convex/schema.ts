import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
import {
  vChatRole,
  vDeliveryStatus,
  vLinkKind,
  vSource,
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
  // At most MAX_LINKS_PER_ORDER rows per order, counted in work_order_link_counts.
  work_order_links: defineTable({
    workOrderId: v.id("work_orders"),
    kind: vLinkKind,
    value: v.string(),
  })
    // The contract names this index; by_workOrderId_kind_value serves point lookups.
    // eslint-disable-next-line @convex-dev/no-duplicate-indexes
    .index("by_workOrderId_kind", ["workOrderId", "kind"])
    .index("by_workOrderId_kind_value", ["workOrderId", "kind", "value"])
    .index("by_kind_value", ["kind", "value"]),

  // How many links each work order holds, over a few shards so that
  // concurrent deliveries linking to one order rarely write the same row;
  // each shard holds at most its share of the cap (convex/model/links.ts).
  // Written with the links, never deleted (links are never removed).
  work_order_link_counts: defineTable({
    workOrderId: v.id("work_orders"),
    shard: v.number(),
    count: v.number(),
  }).index("by_workOrderId_shard", ["workOrderId", "shard"]),

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

  // A chat message that came from a sender, under the sender's id for it
  // (`slack:<team>:<channel>:<ts>`, `events:<webhook-id>`): appended once,
  // edited and removed through it. editVersion is the latest edit applied;
  // removedAt marks a message removed at the sender.
  chat_message_origins: defineTable({
    externalId: v.string(),
    messageId: v.id("chat_messages"),
    editVersion: v.optional(v.string()),
    removedAt: v.optional(v.number()),
  }).index("by_externalId", ["externalId"]),

  // A Slack thread bound to the chat session its app mention started.
  slack_threads: defineTable({
    team: v.string(),
    channel: v.string(),
    threadTs: v.string(),
    sessionId: v.id("chat_sessions"),
  }).index("by_team_channel_threadTs", ["team", "channel", "threadTs"]),

  // Every verified webhook delivery, once per (source, deliveryKey); the raw body is in file storage.
  webhook_deliveries: defineTable({
    source: vSource,
    deliveryKey: v.string(),
    event: v.string(),
    action: v.optional(v.string()),
    contentType: v.string(),
    body: v.id("_storage"),
    bodyBytes: v.number(),
    receivedAt: v.number(),
    status: vDeliveryStatus,
    // Processing attempts made so far, and when the next one is due (none once finished or given up).
    attempts: v.number(),
    nextAttemptAt: v.optional(v.number()),
    error: v.optional(v.string()),
    ignoredReason: v.optional(v.string()),
    finishedAt: v.optional(v.number()),
    // What processing cost (ctx.meta.getTransactionMetrics) and which records it changed.
    cost: v.optional(
      v.object({
        documentsRead: v.number(),
        documentsWritten: v.number(),
        bytesRead: v.number(),
        bytesWritten: v.number(),
      }),
    ),
    touched: v.optional(v.array(v.object({ table: v.string(), id: v.string(), change: v.string() }))),
    touchedCount: v.optional(v.number()),
    // Effects asked for but not applied, and why (a status the machine refused, an unknown order, an unbound thread).
    skipped: v.optional(v.array(v.string())),
    // While a delivery too large for one transaction is applied in several:
    // the orders each selector reached (resolved once, in the first), how
    // many links are written, and how many skips were noted so far.
    progress: v.optional(
      v.object({
        resolved: v.array(v.array(v.id("work_orders"))),
        linksDone: v.number(),
        skippedCount: v.number(),
      }),
    ),
  })
    .index("by_source_deliveryKey", ["source", "deliveryKey"])
    .index("by_status_nextAttemptAt", ["status", "nextAttemptAt"])
    .index("by_status_receivedAt", ["status", "receivedAt"])
    .index("by_source_status_receivedAt", ["source", "status", "receivedAt"])
    .index("by_receivedAt", ["receivedAt"]),

  // Deliveries per (source, status), kept in the transaction that changes a
  // delivery's status and spread over shards so that concurrent deliveries
  // rarely write the same row; the count is the sum over shards.
  delivery_counters: defineTable({
    source: vSource,
    status: vDeliveryStatus,
    shard: v.number(),
    count: v.number(),
  }).index("by_source_status_shard", ["source", "status", "shard"]),
});
