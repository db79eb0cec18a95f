import { defineTable } from "convex/server";
import { v } from "convex/values";
import { vTouched } from "../effects/report";
import { vTransactionCost } from "../platform/cost";
import { attemptFields, vDeliveryStatus, vSource } from "../platform/validators";
import { vAttempt } from "./attempts";

/*
 * The inbox's tables (part of convex/schema.ts): every verified delivery,
 * its body, its attempts, the counts by source and status, conflicts and
 * pauses (docs/architecture.md, the webhook road).
 */
export const inboxTables = {
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
    // Processing attempts made so far, when the next one is due, the last error, when it finished.
    ...attemptFields,
    ignoredReason: v.optional(v.string()),
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

  // Where the hourly drop of expired bodies stopped (convex/inbox/maintenance.ts): the
  // delivery_bodies index key it starts the next walk after, so that bodies it passed over
  // (failed and accepted deliveries') are not read again every hour. One row, written by
  // that walk; never deleted.
  delivery_body_walks: defineTable({
    // A BatchCursor (model/platform/batches.ts, which reads the schema: not imported here).
    after: v.array(v.union(v.string(), v.number())),
  }),

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
};
