import { v } from "convex/values";
import { internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import { internalAction, internalMutation, internalQuery, type MutationCtx } from "../_generated/server";
import type { Interpretation } from "../../src/commands";
import { webhookSources } from "../../src/sources";
import { UninterpretableDelivery } from "../../src/sources/source";
import { wellFormedInterpretation } from "../../src/sources/wellFormed";
import { LIMITS } from "../../src/limits";
import { nextAttempt } from "../../src/retry";
import { truncate } from "../../src/text";
import { applyDelivery, interpreted, vInterpreted } from "../model/inbox/applyDelivery";
import { recordAttempt } from "../model/inbox/attempts";
import { noticeDeliveryFailed } from "../model/alerts/notice";
import { sourceSettings } from "../model/platform/config";
import { keptBody, vIncomingBody } from "../model/inbox/bodies";
import { cancelPendingRun, DELIVERY_RETRY, isSettled, scheduleProcessing, updateDelivery } from "../model/inbox/deliveries";
import { hold, processingPaused } from "../model/inbox/pauses";
import schema from "../schema";

/*
 * Processing a recorded delivery: interpret the kept body (pure), apply the
 * commands (in one transaction, or several for a delivery too large for
 * one), or record the failure and retry with backoff. A body kept as text
 * is processed by a scheduled mutation (applyInline), one in file storage by
 * an action (processDelivery); both apply through completeDelivery.
 */

export const deliveryToProcess = internalQuery({
  args: { deliveryId: v.id("webhook_deliveries") },
  returns: v.union(
    schema.tables.webhook_deliveries.validator
      .pick("source", "deliveryKey", "contentType", "event")
      .extend({ body: v.union(vIncomingBody, v.null()), paused: v.boolean() }),
    v.null(),
  ),
  handler: async (ctx, { deliveryId }) => {
    const delivery = await ctx.db.get("webhook_deliveries", deliveryId);
    if (delivery === null || isSettled(delivery)) {
      return null;
    }
    const { source, deliveryKey, contentType, event } = delivery;
    return { source, deliveryKey, contentType, event, body: await keptBody(ctx, delivery), paused: await processingPaused(ctx, source) };
  },
});

/** A run that starts while its delivery's source is paused holds the delivery until ingest:resume, and does nothing else. */
export const holdDelivery = internalMutation({
  args: { deliveryId: v.id("webhook_deliveries") },
  returns: v.null(),
  handler: async (ctx, { deliveryId }) => {
    const delivery = await ctx.db.get("webhook_deliveries", deliveryId);
    if (delivery !== null && !isSettled(delivery) && (await processingPaused(ctx, delivery.source))) {
      await hold(ctx, delivery);
    }
    return null;
  },
});

/** The body's absence, as a failed attempt says it. */
function missingBody(deliveryId: Id<"webhook_deliveries">): Error {
  return new Error(`The stored body of delivery ${deliveryId} is missing (deleted).`);
}

/**
 * Interprets a body (pure): its commands, every string of them one Convex
 * can hold (a sender's half surrogate pair skips an effect, never fails the
 * delivery). Throws UninterpretableDelivery for a body its source cannot read.
 */
function interpretBody(delivery: Pick<Doc<"webhook_deliveries">, "source" | "deliveryKey" | "contentType" | "event">, body: Uint8Array): Interpretation {
  const source = webhookSources[delivery.source];
  return wellFormedInterpretation(
    source.interpret({ deliveryKey: delivery.deliveryKey, body, contentType: delivery.contentType, event: delivery.event }, sourceSettings(source)),
  );
}

/** Why an attempt failed, and whether it is final: a body its source cannot interpret fails the same way every time. */
function failureOf(error: unknown): { outcome: "failed" | "uninterpretable"; error: string } {
  if (error instanceof UninterpretableDelivery) {
    return { outcome: "uninterpretable", error: error.message };
  }
  return { outcome: "failed", error: error instanceof Error ? error.message : String(error) };
}

/**
 * Processes one delivery: reads the stored body, interprets it, applies the
 * commands in one mutation. A body its source cannot interpret fails at once
 * (interpreting is deterministic: it would fail the same way every time);
 * any other error is of the moment and retried.
 */
export const processDelivery = internalAction({
  args: { deliveryId: v.id("webhook_deliveries") },
  returns: v.null(),
  handler: async (ctx, { deliveryId }) => {
    const delivery = await ctx.runQuery(internal.inbox.process.deliveryToProcess, { deliveryId });
    if (delivery === null) {
      return null;
    }
    if (delivery.paused) {
      await ctx.runMutation(internal.inbox.process.holdDelivery, { deliveryId });
      return null;
    }
    try {
      const blob = delivery.body === null ? null : "file" in delivery.body ? await ctx.storage.get(delivery.body.file) : new Blob([delivery.body.text]);
      if (blob === null) {
        throw missingBody(deliveryId);
      }
      const interpretation = interpretBody(delivery, new Uint8Array(await blob.arrayBuffer()));
      await ctx.runMutation(internal.inbox.process.completeDelivery, { deliveryId, ...(await interpreted(interpretation)) });
    } catch (error) {
      await ctx.runMutation(internal.inbox.process.recordFailure, { deliveryId, ...failureOf(error) });
    }
    return null;
  },
});

/**
 * Processes a delivery whose body is kept as text, in one scheduled mutation
 * (it cannot be lost, and needs no action): interprets the body, then applies
 * the commands in a nested transaction, so that when applying throws,
 * nothing of it stays and this transaction records the failed attempt and
 * schedules the retry (as get-convex/workpool runs a mutation's work).
 */
export const applyInline = internalMutation({
  args: { deliveryId: v.id("webhook_deliveries") },
  returns: v.null(),
  handler: async (ctx, { deliveryId }) => {
    const delivery = await ctx.db.get("webhook_deliveries", deliveryId);
    if (delivery === null || isSettled(delivery)) {
      return null;
    }
    if (await processingPaused(ctx, delivery.source)) {
      // A run that starts while its source is paused holds the delivery until ingest:resume.
      await hold(ctx, delivery);
      return null;
    }
    try {
      const body = await keptBody(ctx, delivery);
      if (body === null || !("text" in body)) {
        throw missingBody(deliveryId);
      }
      const interpretation = interpretBody(delivery, new TextEncoder().encode(body.text));
      await ctx.runMutation(internal.inbox.process.completeDelivery, { deliveryId, ...(await interpreted(interpretation)), asRead: delivery });
    } catch (error) {
      // The nested transaction's writes are gone; the row is as this run read it.
      await recordFailedAttempt(ctx, delivery, failureOf(error));
    }
    return null;
  },
});

/**
 * Applies an interpreted delivery and marks it processed (or ignored). A
 * delivery is applied in one transaction when it fits: if anything throws,
 * nothing of it stays. One whose work does not fit (a push of 2,048 commits
 * to several orders, a merge reaching a hundred orders with large prompts)
 * records its progress and continues in a new run of processDelivery, from
 * where it stopped; it is `processed` only when all is applied, and each
 * run is idempotent, so a retry or replay redoes nothing twice. Progress
 * counts in the interpretation of `digest`: a run that interprets the body
 * otherwise (a deploy in between) applies the delivery again from the
 * start, to the orders its earlier runs resolved. A delivery already
 * finished is left alone.
 */
export const completeDelivery = internalMutation({
  args: {
    deliveryId: v.id("webhook_deliveries"),
    ...vInterpreted.fields,
    // The row as the calling mutation read it, when this runs nested in its transaction (nothing can change it in between).
    asRead: v.optional(schema.doc("webhook_deliveries")),
  },
  returns: v.null(),
  handler: async (ctx, { deliveryId, interpretation, digest, asRead }) => {
    const delivery = asRead ?? (await ctx.db.get("webhook_deliveries", deliveryId));
    if (delivery === null || isSettled(delivery)) {
      return null;
    }
    await applyDelivery(ctx, delivery, { interpretation, digest });
    return null;
  },
});

/**
 * Records a failed attempt. An error of the moment schedules the next
 * attempt with backoff while attempts remain; an uninterpretable body, or
 * the last attempt, leaves the delivery failed until an operator replays or
 * discards it.
 */
export const recordFailure = internalMutation({
  args: {
    deliveryId: v.id("webhook_deliveries"),
    outcome: v.union(v.literal("failed"), v.literal("uninterpretable")),
    error: v.string(),
  },
  returns: v.null(),
  handler: async (ctx, { deliveryId, ...failure }) => {
    const delivery = await ctx.db.get("webhook_deliveries", deliveryId);
    if (delivery !== null && !isSettled(delivery)) {
      await recordFailedAttempt(ctx, delivery, failure);
    }
    return null;
  },
});

/** recordFailure's work, in the calling transaction. */
async function recordFailedAttempt(
  ctx: MutationCtx,
  delivery: Doc<"webhook_deliveries">,
  { outcome, error }: { outcome: "failed" | "uninterpretable"; error: string },
) {
  const attempts = delivery.attempts + 1;
  const now = Date.now();
  const next = outcome === "uninterpretable" ? null : nextAttempt(DELIVERY_RETRY, { attemptsMade: attempts, now, random: Math.random() });
  const delay = next !== null && "retryInMs" in next ? next.retryInMs : null;
  const retryAt = delay === null ? undefined : now + delay;
  const reason = truncate(error, LIMITS.reasonChars);
  // At most one live run per delivery: a retry another run left waiting gives way to this one's.
  await cancelPendingRun(ctx, delivery);
  await updateDelivery(ctx, delivery, {
    status: "failed",
    attempts,
    error: reason,
    nextAttemptAt: retryAt,
    finishedAt: now,
    scheduledRunId: delay === null ? undefined : await scheduleProcessing(ctx, delivery, delay),
  });
  await recordAttempt(ctx, delivery._id, { outcome, error: reason, retryAt });
  if (delay === null) {
    await noticeDeliveryFailed(ctx, delivery, reason);
  }
}
