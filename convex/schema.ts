import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
import {
  vChatRole,
  vDeliveryStatus,
  vLinkKind,
  vSelectableLinkKind,
  vSource,
  vStatusSource,
  vWorkOrderStatus,
} from "./model/platform/validators";
import { vTouched } from "./model/effects/report";
import { vAttempt } from "./model/inbox/attempts";
import { vTransactionCost } from "./model/platform/cost";
import { alertTables } from "./model/alerts/tables";
import { githubTables } from "./model/github/tables";
import { slackTables } from "./model/slack/tables";
import { legacySlackOutboxTables, outboxTables } from "./outbox/tables";
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

  // Derived indexes of LIVE (not terminal) work orders, so that a webhook
  // finds the live orders of a branch or a pull request newest first without
  // reading finished ones (docs/architecture.md): each row repeats a fact
  // kept in work_order_targets / work_order_links (or the order's
  // requestedBy, for work_order_live_requesters), and exists exactly while
  // its order is live. Written only by convex/model/workOrders/liveIndex.ts, from the
  // choke points that change an order's target, links or liveness
  // (createWorkOrder, upsertTarget, addLinks, changeStatus: deleted when the
  // order becomes terminal); rebuilt for older orders by migrations.ts.
  // `orderCreatedAt` is the order's createdAt, which ranks them.
  work_order_live_targets: defineTable({
    workOrderId: v.id("work_orders"),
    targetRepo: v.string(),
    targetBranch: v.string(),
    orderCreatedAt: v.number(),
  })
    .index("by_workOrderId", ["workOrderId"])
    .index("by_targetRepo_targetBranch_orderCreatedAt", ["targetRepo", "targetBranch", "orderCreatedAt"]),

  // The issues and pull requests a live order is linked to (the links rule 3
  // follows), its first MAX_LIVE_LINKS_PER_ORDER of them; as above.
  work_order_live_links: defineTable({
    workOrderId: v.id("work_orders"),
    kind: vSelectableLinkKind,
    value: v.string(),
    orderCreatedAt: v.number(),
  })
    .index("by_workOrderId", ["workOrderId"])
    .index("by_kind_value_orderCreatedAt", ["kind", "value", "orderCreatedAt"]),

  // The requester (requestedBy) of each live order, as above: a user's live
  // orders are counted through by_requestedBy, reading no order, at most
  // JANGAR_MAX_LIVE_ORDERS rows (convex/model/workOrders/orders.ts).
  work_order_live_requesters: defineTable({
    workOrderId: v.id("work_orders"),
    requestedBy: v.string(),
  })
    .index("by_workOrderId", ["workOrderId"])
    .index("by_requestedBy", ["requestedBy"]),

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

  // Every verified webhook delivery, once per (source, deliveryKey, body, event, contentType):
  // the same key with another body, or the same body under another event name or content type
  // (both unsigned), is a delivery of its own (a conflict). The raw body is in `delivery_bodies`
  // (rows recorded before it: in file storage, `body`). Written once when recorded; processing
  // patches it; deleted with its attempts by retention or ingest:discard.
  webhook_deliveries: defineTable({
    source: vSource,
    deliveryKey: v.string(),
    // SHA-256 of the raw body, hex: only on rows recorded while bodies were hashed on receipt
    // (new rows compare bodies only when a row with the same key exists).
    bodySha256: v.optional(v.string()),
    event: v.string(),
    action: v.optional(v.string()),
    contentType: v.string(),
    // The body in file storage, on rows recorded before `delivery_bodies`.
    body: v.optional(v.id("_storage")),
    // The body is a document's text, and is processed by a scheduled mutation (absent: by an action).
    inline: v.optional(v.literal(true)),
    bodyBytes: v.number(),
    // GitHub's delivery GUID (X-GitHub-Delivery), by which the App's sweep finds a delivery
    // whatever hook delivered it (convex/inbox/githubRedeliveries.ts); absent for other sources and older rows.
    deliveryGuid: v.optional(v.string()),
    receivedAt: v.number(),
    status: vDeliveryStatus,
    // Processing attempts made so far, and when the next one is due (none once finished or given up).
    attempts: v.number(),
    nextAttemptAt: v.optional(v.number()),
    error: v.optional(v.string()),
    ignoredReason: v.optional(v.string()),
    finishedAt: v.optional(v.number()),
    // What processing cost (ctx.meta.getTransactionMetrics) and which records it changed.
    cost: v.optional(vTransactionCost),
    touched: v.optional(v.array(vTouched)),
    touchedCount: v.optional(v.number()),
    // Effects asked for but not applied, and why (a status the machine refused, an unknown order, an unbound thread).
    skipped: v.optional(v.array(v.string())),
    // The processing run scheduled last: recovery leaves the delivery alone while it is pending or running.
    scheduledRunId: v.optional(v.id("_scheduled_functions")),
    // While a delivery too large for one transaction is applied in several
    // (convex/model/effects/applyCommands.ts): the digest of the interpretation the positions
    // count in (a later transaction that interprets the body otherwise, after
    // a deploy, starts its units again; rows written before it was kept have
    // none), the orders each selector reached (each resolved once per
    // delivery) and the selectorKey of each (absent on older rows: by
    // position), how many units of work before the links (`stepsDone`: the
    // engine's unitsDone) and how many links are done, and how many skips
    // were noted so far.
    progress: v.optional(
      v.object({
        digest: v.optional(v.string()),
        resolved: v.array(v.array(v.id("work_orders"))),
        selectors: v.optional(v.array(v.string())),
        stepsDone: v.optional(v.number()),
        linksDone: v.number(),
        skippedCount: v.number(),
      }),
    ),
  })
    .index("by_source_deliveryKey_bodySha256_event_contentType", ["source", "deliveryKey", "bodySha256", "event", "contentType"])
    .index("by_status_nextAttemptAt", ["status", "nextAttemptAt"])
    .index("by_status_receivedAt", ["status", "receivedAt"])
    .index("by_source_status_receivedAt", ["source", "status", "receivedAt"])
    .index("by_deliveryGuid", ["deliveryGuid"])
    .index("by_receivedAt", ["receivedAt"]),

  // A delivery's raw body, in a document of its own so that processing a delivery never
  // rewrites it: its text when it is small (at most WEBHOOK_INLINE_BODY_BYTES), else the file
  // that holds it. Written once with its delivery; deleted with it (retention, ingest:discard).
  delivery_bodies: defineTable({
    deliveryId: v.id("webhook_deliveries"),
    text: v.optional(v.string()),
    file: v.optional(v.id("_storage")),
    // The processing run scheduled as the delivery was recorded (the row names later ones).
    firstRun: v.optional(v.id("_scheduled_functions")),
  }).index("by_deliveryId", ["deliveryId"]),

  // Deliveries per source and status, spread over DELIVERY_TALLY_SHARDS shards per source
  // (convex/model/inbox/deliveries.ts): a transaction that records a delivery, or moves it from
  // one status to another, writes one shard picked at random, with every status it changes; the
  // count is the sum over shards (and over `delivery_counters`, written before). Written by the
  // inbox's recording, processing, operators' functions and retention; never deleted.
  delivery_tallies: defineTable({
    source: vSource,
    shard: v.number(),
    accepted: v.number(),
    processed: v.number(),
    ignored: v.number(),
    failed: v.number(),
  }).index("by_source_shard", ["source", "shard"]),

  // Before delivery_tallies (no longer written; read into the counts): deliveries per (source, status), kept in the transaction that changes a
  // delivery's status and spread over shards so that concurrent deliveries
  // rarely write the same row; the count is the sum over shards.
  delivery_counters: defineTable({
    source: vSource,
    status: vDeliveryStatus,
    shard: v.number(),
    count: v.number(),
  }).index("by_source_status_shard", ["source", "status", "shard"]),

  // A delivery's audit, oldest first: every processing attempt, every recovery
  // of a lost run and every replay adds a row, and nothing changes one.
  // Written by inbox/process, inbox/maintenance and ingest; deleted only
  // with its delivery (retention, ingest:discard).
  delivery_attempts: defineTable(vAttempt).index("by_deliveryId", ["deliveryId"]),

  // The reconciler's chains of pages (convex/reconcile.ts), one row per chain,
  // naming its latest scheduled page: a sweep starts a chain only once that
  // page is neither pending nor running. Written by the chain's pages.
  reconciler_chains: defineTable({
    chain: v.union(v.literal("stale"), v.literal("launch")),
    page: v.id("_scheduled_functions"),
  }).index("by_chain", ["chain"]),

  // Deliveries of a source that arrived under a key already stored with another body,
  // since the deployment began (written by inbox/receive.ts; never purged).
  delivery_conflicts: defineTable({
    source: vSource,
    count: v.number(),
  }).index("by_source", ["source"]),

  // The sources whose processing an operator paused (ingest:pause), since
  // when and why; deleted by ingest:resume. Read, never written, by every
  // delivery of the source (convex/model/inbox/pauses.ts).
  inbox_pauses: defineTable({
    source: vSource,
    pausedAt: v.number(),
    reason: v.optional(v.string()),
  }).index("by_source", ["source"]),
});
