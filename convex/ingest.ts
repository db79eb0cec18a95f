import { ConvexError, v } from "convex/values";
import { internal } from "./_generated/api";
import schema from "./schema";
import type { Doc, Id } from "./_generated/dataModel";
import {
  httpAction,
  internalAction,
  internalMutation,
  internalQuery,
  type MutationCtx,
} from "./_generated/server";
import { webhookSources } from "../src/sources";
import {
  deliveryFieldsProblem,
  SOURCES,
  type Settings,
  type WebhookSource,
} from "../src/sources/source";
import { LIMITS } from "../src/limits";
import { retryDelayMs } from "../src/retry";
import { truncate } from "../src/text";
import { applyCommands } from "./model/apply";
import { deliveryRetentionMs, maxBodyBytes, setting } from "./model/config";
import { transactionCost } from "./model/cost";
import {
  countDeliveries,
  deleteDelivery,
  insertDelivery,
  updateDelivery,
} from "./model/deliveries";
import {
  DELIVERY_STATUSES,
  vDeliveryStatus,
  vInterpretation,
  vSource,
} from "./model/validators";

/*
 * The webhook inbox (CONTRACT.md section 3), shared by every source:
 * receive (verify, then one mutation that dedupes, records and schedules),
 * process (interpret the stored body, apply the commands in one mutation),
 * retry with backoff, replay by hand, recover lost runs, purge old deliveries.
 */

// How many touched records and skip reasons a delivery keeps.
const KEPT = 100;
// A delivery whose scheduled run has not finished this long after it was due is run again.
const LOST_AFTER_MS = 10 * 60 * 1000;
const RECOVER_BATCH = 100;
const PURGE_BATCH = 100;

/** The settings a source reads besides its secret, as the deployment has them now. */
function settingsOf(source: WebhookSource): Settings {
  return Object.fromEntries(source.settingNames.map((name) => [name, setting(name)]));
}

/** A delivery that processing has finished with, for good or deliberately. */
function isSettled(delivery: Doc<"webhook_deliveries">): boolean {
  return delivery.status === "processed" || delivery.status === "ignored";
}

function json(status: number, body: Record<string, unknown>): Response {
  return Response.json(body, { status });
}

/** The HTTP action of one source: verify, then record in one mutation, then answer. */
export function receiveWebhook(source: WebhookSource) {
  return httpAction(async (ctx, request) => {
    const secret = setting(source.secretVariable);
    if (secret === undefined) {
      return json(503, {
        error: `${source.secretVariable} is not set on this deployment; nothing was stored. Set it with \`npx convex env set ${source.secretVariable} ...\`.`,
      });
    }
    let limit: number;
    try {
      limit = maxBodyBytes();
    } catch (error) {
      return json(503, { error: (error as Error).message });
    }
    const declaredLength = Number(request.headers.get("content-length") ?? 0);
    if (declaredLength > limit) {
      return json(413, { error: `The body is ${declaredLength} bytes; the limit is ${limit} (WEBHOOK_MAX_BODY_BYTES).` });
    }
    const body = new Uint8Array(await request.arrayBuffer());
    if (body.length > limit) {
      return json(413, { error: `The body is ${body.length} bytes; the limit is ${limit} (WEBHOOK_MAX_BODY_BYTES).` });
    }
    const receivedAt = Date.now();
    const admission = await source.admit({ headers: request.headers, body, receivedAt }, secret, settingsOf(source));
    if (admission.kind === "reject") {
      return json(admission.status, { error: admission.error });
    }
    const unstorable = deliveryFieldsProblem(admission);
    if (unstorable !== null) {
      return json(400, { error: unstorable });
    }
    const bodyId = await ctx.storage.store(new Blob([body], { type: admission.contentType }));
    let recorded: { status: "accepted" | "ignored" | "duplicate"; deliveryId: Id<"webhook_deliveries"> };
    try {
      recorded = await ctx.runMutation(internal.ingest.record, {
        source: source.name,
        deliveryKey: admission.deliveryKey,
        event: admission.event,
        action: admission.action,
        contentType: admission.contentType,
        body: bodyId,
        bodyBytes: body.length,
        receivedAt,
        ignoredReason: admission.ignored,
      });
    } catch (error) {
      await ctx.storage.delete(bodyId);
      throw error;
    }
    if (recorded.status === "duplicate") {
      await ctx.storage.delete(bodyId);
    }
    if (admission.reply !== undefined) {
      return json(200, admission.reply);
    }
    return json(200, {
      status: recorded.status,
      delivery: recorded.deliveryId,
      ...(recorded.status === "ignored" ? { reason: admission.ignored } : {}),
    });
  });
}

/** Looks the delivery key up, records the delivery and schedules its processing: one transaction. */
export const record = internalMutation({
  args: {
    ...schema.tables.webhook_deliveries.validator.pick(
      "source",
      "deliveryKey",
      "event",
      "action",
      "contentType",
      "body",
      "bodyBytes",
      "receivedAt",
    ).fields,
    ignoredReason: v.optional(v.string()),
  },
  returns: v.object({
    status: v.union(v.literal("accepted"), v.literal("ignored"), v.literal("duplicate")),
    deliveryId: v.id("webhook_deliveries"),
  }),
  handler: async (ctx, { ignoredReason, ...delivery }) => {
    const existing = await ctx.db
      .query("webhook_deliveries")
      .withIndex("by_source_deliveryKey", (q) =>
        q.eq("source", delivery.source).eq("deliveryKey", delivery.deliveryKey),
      )
      .unique();
    if (existing !== null) {
      return { status: "duplicate" as const, deliveryId: existing._id };
    }
    if (ignoredReason !== undefined) {
      const deliveryId = await insertDelivery(ctx, {
        ...delivery,
        status: "ignored",
        attempts: 0,
        ignoredReason,
        finishedAt: delivery.receivedAt,
      });
      return { status: "ignored" as const, deliveryId };
    }
    const deliveryId = await insertDelivery(ctx, {
      ...delivery,
      status: "accepted",
      attempts: 0,
      nextAttemptAt: delivery.receivedAt,
    });
    await ctx.scheduler.runAfter(0, internal.ingest.processDelivery, { deliveryId });
    return { status: "accepted" as const, deliveryId };
  },
});

export const deliveryToProcess = internalQuery({
  args: { deliveryId: v.id("webhook_deliveries") },
  returns: v.union(
    v.object({
      source: vSource,
      deliveryKey: v.string(),
      body: v.id("_storage"),
      contentType: v.string(),
      event: v.string(),
    }),
    v.null(),
  ),
  handler: async (ctx, { deliveryId }) => {
    const delivery = await ctx.db.get("webhook_deliveries", deliveryId);
    if (delivery === null || isSettled(delivery)) {
      return null;
    }
    const { source, deliveryKey, body, contentType, event } = delivery;
    return { source, deliveryKey, body, contentType, event };
  },
});

/** Processes one delivery: reads the stored body, interprets it, applies the commands in one mutation. */
export const processDelivery = internalAction({
  args: { deliveryId: v.id("webhook_deliveries") },
  returns: v.null(),
  handler: async (ctx, { deliveryId }) => {
    const delivery = await ctx.runQuery(internal.ingest.deliveryToProcess, { deliveryId });
    if (delivery === null) {
      return null;
    }
    try {
      const blob = await ctx.storage.get(delivery.body);
      if (blob === null) {
        throw new Error(`The stored body ${delivery.body} of delivery ${deliveryId} is missing.`);
      }
      const source = webhookSources[delivery.source];
      const interpretation = source.interpret(
        {
          deliveryKey: delivery.deliveryKey,
          body: new Uint8Array(await blob.arrayBuffer()),
          contentType: delivery.contentType,
          event: delivery.event,
        },
        settingsOf(source),
      );
      await ctx.runMutation(internal.ingest.completeDelivery, { deliveryId, interpretation });
    } catch (error) {
      await ctx.runMutation(internal.ingest.recordFailure, {
        deliveryId,
        error: error instanceof Error ? error.message : String(error),
      });
    }
    return null;
  },
});

/**
 * Applies an interpreted delivery and marks it processed (or ignored), in
 * one transaction: if anything throws, nothing of it stays. A delivery
 * already finished is left alone, so a run repeated by a retry, the
 * recovery sweep or a replay applies its effects once.
 */
export const completeDelivery = internalMutation({
  args: { deliveryId: v.id("webhook_deliveries"), interpretation: vInterpretation },
  returns: v.null(),
  handler: async (ctx, { deliveryId, interpretation }) => {
    const delivery = await ctx.db.get("webhook_deliveries", deliveryId);
    if (delivery === null || isSettled(delivery)) {
      return null;
    }
    const now = Date.now();
    const finished = {
      attempts: delivery.attempts + 1,
      nextAttemptAt: undefined,
      error: undefined,
      finishedAt: now,
    };
    if (interpretation.kind === "ignored") {
      await updateDelivery(ctx, delivery, {
        ...finished,
        status: "ignored",
        ignoredReason: interpretation.reason,
      });
      return null;
    }
    const { touched, skipped } = await applyCommands(ctx, interpretation.commands, {
      source: delivery.source,
      actor: `${delivery.source}:${delivery.deliveryKey}`,
    });
    const cost = await transactionCost(ctx);
    // A delivery whose every effect was refused or had nothing to act on is ignored, with the reasons.
    const ignored = touched.length === 0 && skipped.length > 0;
    await updateDelivery(ctx, delivery, {
      ...finished,
      status: ignored ? "ignored" : "processed",
      ignoredReason: ignored ? truncate(skipped.join(" "), LIMITS.reasonChars) : undefined,
      cost,
      touched: touched.slice(0, KEPT),
      touchedCount: touched.length,
      skipped: skipped.length > 0 ? skipped.slice(0, KEPT) : undefined,
    });
    return null;
  },
});

/** Records a failed attempt and schedules the next one with backoff, while attempts remain. */
export const recordFailure = internalMutation({
  args: { deliveryId: v.id("webhook_deliveries"), error: v.string() },
  returns: v.null(),
  handler: async (ctx, { deliveryId, error }) => {
    const delivery = await ctx.db.get("webhook_deliveries", deliveryId);
    if (delivery === null || isSettled(delivery)) {
      return null;
    }
    const attempts = delivery.attempts + 1;
    const delay = retryDelayMs(attempts);
    const now = Date.now();
    await updateDelivery(ctx, delivery, {
      status: "failed",
      attempts,
      error: truncate(error, LIMITS.reasonChars),
      nextAttemptAt: delay === null ? undefined : now + delay,
      finishedAt: now,
    });
    if (delay !== null) {
      await ctx.scheduler.runAfter(delay, internal.ingest.processDelivery, { deliveryId });
    }
    return null;
  },
});

/** Sets a delivery to be processed again now, with a fresh set of attempts. */
async function requeue(ctx: MutationCtx, delivery: Doc<"webhook_deliveries">) {
  await updateDelivery(ctx, delivery, { status: "accepted", attempts: 0, nextAttemptAt: Date.now() });
  await ctx.scheduler.runAfter(0, internal.ingest.processDelivery, { deliveryId: delivery._id });
}

/**
 * Operators: processes a delivery again (`npx convex run ingest:replay
 * '{"deliveryId": "..."}'`). Its effects are idempotent, so replaying a
 * processed delivery changes nothing twice.
 */
export const replay = internalMutation({
  args: { deliveryId: v.id("webhook_deliveries") },
  returns: v.object({ deliveryId: v.id("webhook_deliveries"), previousStatus: vDeliveryStatus }),
  handler: async (ctx, { deliveryId }) => {
    const delivery = await ctx.db.get("webhook_deliveries", deliveryId);
    if (delivery === null) {
      throw new ConvexError({ code: "NOT_FOUND", message: `Delivery ${deliveryId} does not exist (purged?).` });
    }
    await requeue(ctx, delivery);
    return { deliveryId, previousStatus: delivery.status };
  },
});

/** Operators: replays the oldest failed deliveries, of one source or all (`npx convex run ingest:replayFailed`). */
export const replayFailed = internalMutation({
  args: { source: v.optional(vSource), limit: v.optional(v.number()) },
  returns: v.array(v.id("webhook_deliveries")),
  handler: async (ctx, { source, limit }) => {
    const take = Math.min(Math.max(1, Math.floor(limit ?? 100)), RECOVER_BATCH);
    const failed =
      source === undefined
        ? await ctx.db
            .query("webhook_deliveries")
            .withIndex("by_status_receivedAt", (q) => q.eq("status", "failed"))
            .take(take)
        : await ctx.db
            .query("webhook_deliveries")
            .withIndex("by_source_status_receivedAt", (q) => q.eq("source", source).eq("status", "failed"))
            .take(take);
    for (const delivery of failed) {
      await requeue(ctx, delivery);
    }
    return failed.map((delivery) => delivery._id);
  },
});

/**
 * Operators: the inbox at a glance (`npx convex run ingest:inboxStatus`):
 * deliveries by source and status, and the most recent failures.
 */
export const inboxStatus = internalQuery({
  args: { failures: v.optional(v.number()) },
  returns: v.object({
    counts: v.array(v.object({ source: vSource, status: vDeliveryStatus, count: v.number() })),
    recentFailures: v.array(
      v.object({
        deliveryId: v.id("webhook_deliveries"),
        source: vSource,
        deliveryKey: v.string(),
        event: v.string(),
        receivedAt: v.number(),
        attempts: v.number(),
        error: v.optional(v.string()),
        nextAttemptAt: v.optional(v.number()),
      }),
    ),
  }),
  handler: async (ctx, { failures }) => {
    const counts = [];
    for (const source of SOURCES) {
      for (const status of DELIVERY_STATUSES) {
        counts.push({ source, status, count: await countDeliveries(ctx, source, status) });
      }
    }
    const recent = await ctx.db
      .query("webhook_deliveries")
      .withIndex("by_status_receivedAt", (q) => q.eq("status", "failed"))
      .order("desc")
      .take(Math.min(Math.max(1, Math.floor(failures ?? 20)), 100));
    return {
      counts,
      recentFailures: recent.map((delivery) => ({
        deliveryId: delivery._id,
        source: delivery.source,
        deliveryKey: delivery.deliveryKey,
        event: delivery.event,
        receivedAt: delivery.receivedAt,
        attempts: delivery.attempts,
        error: delivery.error,
        nextAttemptAt: delivery.nextAttemptAt,
      })),
    };
  },
});

/**
 * Cron: runs again deliveries whose run was due more than LOST_AFTER_MS ago
 * and has not finished (a scheduled run lost, an action that died).
 */
export const recoverLost = internalMutation({
  args: {},
  returns: v.number(),
  handler: async (ctx) => {
    const now = Date.now();
    const cutoff = now - LOST_AFTER_MS;
    let recovered = 0;
    for (const status of ["accepted", "failed"] as const) {
      const due = await ctx.db
        .query("webhook_deliveries")
        .withIndex("by_status_nextAttemptAt", (q) =>
          q.eq("status", status).gte("nextAttemptAt", 0).lte("nextAttemptAt", cutoff),
        )
        .take(RECOVER_BATCH - recovered);
      for (const delivery of due) {
        await ctx.db.patch("webhook_deliveries", delivery._id, { nextAttemptAt: now });
        await ctx.scheduler.runAfter(0, internal.ingest.processDelivery, { deliveryId: delivery._id });
      }
      recovered += due.length;
    }
    if (recovered === RECOVER_BATCH) {
      await ctx.scheduler.runAfter(0, internal.ingest.recoverLost, {});
    }
    return recovered;
  },
});

/** Cron: deletes deliveries older than DELIVERY_RETENTION_DAYS with their bodies, a batch per run. */
export const purgeExpired = internalMutation({
  args: {},
  returns: v.number(),
  handler: async (ctx) => {
    const cutoff = Date.now() - deliveryRetentionMs();
    const expired = await ctx.db
      .query("webhook_deliveries")
      .withIndex("by_receivedAt", (q) => q.lt("receivedAt", cutoff))
      .take(PURGE_BATCH);
    for (const delivery of expired) {
      await deleteDelivery(ctx, delivery);
    }
    if (expired.length === PURGE_BATCH) {
      await ctx.scheduler.runAfter(0, internal.ingest.purgeExpired, {});
    }
    return expired.length;
  },
});
