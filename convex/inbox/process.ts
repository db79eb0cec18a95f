import { v } from "convex/values";
import { internal } from "../_generated/api";
import { internalAction, internalMutation, internalQuery } from "../_generated/server";
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
import { cancelPendingRun, DELIVERY_RETRY, isSettled, updateDelivery } from "../model/inbox/deliveries";
import { hold, processingPaused } from "../model/inbox/pauses";
import schema from "../schema";

/*
 * Processing a recorded delivery: interpret the stored body (pure), apply
 * the commands (in one mutation, or several for a delivery too large for
 * one), or record the failure and retry with backoff.
 */

export const deliveryToProcess = internalQuery({
  args: { deliveryId: v.id("webhook_deliveries") },
  returns: v.union(
    schema.tables.webhook_deliveries.validator.pick("source", "deliveryKey", "body", "contentType", "event").extend({ paused: v.boolean() }),
    v.null(),
  ),
  handler: async (ctx, { deliveryId }) => {
    const delivery = await ctx.db.get("webhook_deliveries", deliveryId);
    if (delivery === null || isSettled(delivery)) {
      return null;
    }
    const { source, deliveryKey, body, contentType, event } = delivery;
    return { source, deliveryKey, body, contentType, event, paused: await processingPaused(ctx, source) };
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
      const blob = await ctx.storage.get(delivery.body);
      if (blob === null) {
        throw new Error(`The stored body ${delivery.body} of delivery ${deliveryId} is missing.`);
      }
      const source = webhookSources[delivery.source];
      let interpretation: Interpretation;
      try {
        // Every string of it one Convex can hold: a sender's half surrogate pair skips an effect, never fails the delivery.
        interpretation = wellFormedInterpretation(
          source.interpret(
            {
              deliveryKey: delivery.deliveryKey,
              body: new Uint8Array(await blob.arrayBuffer()),
              contentType: delivery.contentType,
              event: delivery.event,
            },
            sourceSettings(source),
          ),
        );
      } catch (error) {
        if (!(error instanceof UninterpretableDelivery)) {
          throw error;
        }
        await ctx.runMutation(internal.inbox.process.recordFailure, {
          deliveryId,
          outcome: "uninterpretable",
          error: error.message,
        });
        return null;
      }
      await ctx.runMutation(internal.inbox.process.completeDelivery, { deliveryId, ...(await interpreted(interpretation)) });
    } catch (error) {
      await ctx.runMutation(internal.inbox.process.recordFailure, {
        deliveryId,
        outcome: "failed",
        error: error instanceof Error ? error.message : String(error),
      });
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
  args: { deliveryId: v.id("webhook_deliveries"), ...vInterpreted.fields },
  returns: v.null(),
  handler: async (ctx, { deliveryId, interpretation, digest }) => {
    const delivery = await ctx.db.get("webhook_deliveries", deliveryId);
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
  handler: async (ctx, { deliveryId, outcome, error }) => {
    const delivery = await ctx.db.get("webhook_deliveries", deliveryId);
    if (delivery === null || isSettled(delivery)) {
      return null;
    }
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
      scheduledRunId:
        delay === null ? undefined : await ctx.scheduler.runAfter(delay, internal.inbox.process.processDelivery, { deliveryId }),
    });
    await recordAttempt(ctx, deliveryId, { outcome, error: reason, retryAt });
    if (delay === null) {
      await noticeDeliveryFailed(ctx, delivery, reason);
    }
    return null;
  },
});
