import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
import { vChatRole, vLinkKind, vStatusSource, vWorkOrderStatus } from "./model/platform/validators";
import { alertTables } from "./model/alerts/tables";
import { githubTables } from "./model/github/tables";
import { slackTables } from "./model/slack/tables";
import { legacySlackOutboxTables, outboxTables } from "./outbox/tables";
import { inboxTables } from "./model/inbox/tables";
import { liveOrderTables } from "./model/workOrders/tables";
import { eventTables } from "./model/events/tables";

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
    .index("by_status_updatedAt", ["status", "updatedAt"])
    // A person's orders, most recently updated first (Slack's slash command lists them).
    .index("by_requestedBy_updatedAt", ["requestedBy", "updatedAt"]),

  // A failed work order retried from its Slack card or its check run: the order made to run it
  // again (at most one per order), who clicked, and the delivery of the click
  // (`slack:<trigger_id>`), by which a replay of it finds it done. Written by
  // model/effects/personCommands.ts, never deleted.
  work_order_retries: defineTable({
    workOrderId: v.id("work_orders"),
    retryId: v.id("work_orders"),
    requestedBy: v.string(),
    delivery: v.optional(v.string()),
    createdAt: v.number(),
  }).index("by_workOrderId", ["workOrderId"]),

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

  // Derived indexes of live work orders (convex/model/workOrders/tables.ts).
  ...liveOrderTables,

  // How many links each work order holds, over a few shards so that
  // concurrent deliveries linking to one order rarely write the same row;
  // each shard holds at most its share of the cap (convex/model/workOrders/links.ts).
  // Written with the links, never deleted (links are never removed).
  work_order_link_counts: defineTable({
    workOrderId: v.id("work_orders"),
    shard: v.number(),
    count: v.number(),
  }).index("by_workOrderId_shard", ["workOrderId", "shard"]),

  // Every status a work order entered: `from` is null for the status it was created with.
  // `delivery` names the delivery (`slack:<trigger_id>`) through which a person
  // (the actor) asked for it, so that a replay of that delivery finds it done.
  work_order_status_changes: defineTable({
    workOrderId: v.id("work_orders"),
    from: v.union(vWorkOrderStatus, v.null()),
    to: vWorkOrderStatus,
    source: vStatusSource,
    reason: v.optional(v.string()),
    actor: v.string(),
    delivery: v.optional(v.string()),
    changedAt: v.number(),
  }).index("by_workOrderId_changedAt", ["workOrderId", "changedAt"]),

  // A chat message that came from a sender, under the sender's id for it
  // (`slack:<team>:<channel>:<ts>`, `events:<webhook-id>`, `github:comment:<id>`): appended once to
  // each session it reaches (sessionId; absent on rows written before origins
  // named their session), edited and removed through it. editVersion is the latest edit applied;
  // removedAt marks a message removed at the sender. An `outbound` origin is
  // a post of ours (a part of an assistant's reply the outbox posted): it
  // only keeps the sender's echo out; edits and deletions of it at the
  // sender leave the chat message as it is.
  chat_message_origins: defineTable({
    externalId: v.string(),
    messageId: v.id("chat_messages"),
    sessionId: v.optional(v.id("chat_sessions")),
    editVersion: v.optional(v.string()),
    removedAt: v.optional(v.number()),
    outbound: v.optional(v.literal(true)),
  }).index("by_externalId_sessionId", ["externalId", "sessionId"]),

  // The Slack side of bound sessions: threads and cards.
  ...slackTables,

  // The GitHub side of bound sessions: threads.
  ...githubTables,

  // The outbox: requests to other services, their lanes and counts; and the
  // Slack outbox's tables from before, until migrations:moveSlackOutbox.
  ...outboxTables,
  ...legacySlackOutboxTables,

  // Events out: what Jangar's server is told, kept for services to read.
  ...eventTables,

  // Operator alerts: when each condition was last told.
  ...alertTables,

  // The reconciler's chains of pages (convex/reconcile.ts), one row per chain,
  // naming its latest scheduled page: a sweep starts a chain only once that
  // page is neither pending nor running. Written by the chain's pages.
  reconciler_chains: defineTable({
    chain: v.union(v.literal("stale"), v.literal("launch")),
    page: v.id("_scheduled_functions"),
  }).index("by_chain", ["chain"]),

  // The inbox: deliveries, their bodies, attempts and counts.
  ...inboxTables,
});
