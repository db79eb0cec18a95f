import { v, type Infer } from "convex/values";
import { internal } from "../_generated/api";
import { httpAction, internalMutation, internalQuery, type ActionCtx, type QueryCtx } from "../_generated/server";
import schema from "../schema";
import { admitRequest } from "../../src/sources/admission";
import type { Admission, SourceName, WebhookSource } from "../../src/sources/source";
import { LIMITS } from "../../src/limits";
import { truncate } from "../../src/text";
import { maxBodyBytes, setting, sourceSettings } from "../model/platform/config";
import { countConflict, insertDelivery } from "../model/inbox/deliveries";
import { applyDelivery, interpreted, vInterpreted } from "../model/inbox/applyDelivery";
import { processingPaused } from "../model/inbox/pauses";
import { ANSWERS } from "../../src/slack/answers";

/*
 * Receiving a webhook (docs/contract.md#3-webhook-routes): admit (verify, read),
 * answer a duplicate from a query, else store the body and record the
 * delivery in one mutation that checks again, then answer. A delivery that
 * cannot be recorded is answered 503, and its body is not kept. A slash
 * command is applied in that same mutation, and answered with the outcome.
 */

// Senders that honour Retry-After try a delivery that could not be recorded again after this long.
const RETRY_AFTER_SECONDS = 10;

function json(status: number, body: Record<string, unknown>, headers?: Record<string, string>): Response {
  return Response.json(body, { status, headers });
}

const vRecorded = v.object({
  status: v.union(v.literal("accepted"), v.literal("ignored"), v.literal("duplicate")),
  deliveryId: v.id("webhook_deliveries"),
  // What a delivery applied at receipt (a slash command) answers its sender.
  told: v.optional(v.string()),
});
type Recorded = Infer<typeof vRecorded>;
type Admitted = Extract<Admission, { kind: "deliver" }>;

/** Why an admitted delivery is not acted on, as stored and answered: bounded like every stored reason. */
function ignoredReasonOf(admission: Admitted): string | undefined {
  return admission.ignored === undefined ? undefined : truncate(admission.ignored, LIMITS.reasonChars);
}

/** Records an admitted delivery, or finds it already recorded; its body is stored only when it is new. */
async function recordDelivery(ctx: ActionCtx, source: SourceName, admission: Admitted, receivedAt: number): Promise<Recorded> {
  const key = {
    source,
    deliveryKey: admission.deliveryKey,
    bodySha256: admission.bodySha256,
    event: admission.event,
    contentType: admission.contentType,
  };
  const known = await ctx.runQuery(internal.inbox.receive.findDelivery, key);
  if (known !== null) {
    return { status: "duplicate", deliveryId: known };
  }
  const body = await ctx.storage.store(new Blob([admission.bodyText], { type: admission.contentType }));
  try {
    const recorded = await ctx.runMutation(internal.inbox.receive.record, {
      ...key,
      action: admission.action,
      body,
      bodyBytes: admission.bodyBytes,
      receivedAt,
      ignoredReason: ignoredReasonOf(admission),
      atReceipt: admission.atReceipt === undefined ? undefined : await interpreted(admission.atReceipt.interpretation),
    });
    if (recorded.status === "duplicate") {
      // Another copy was recorded between the query and the mutation.
      await ctx.storage.delete(body);
    }
    return recorded;
  } catch (error) {
    await ctx.storage.delete(body);
    throw error;
  }
}

/** The HTTP action of one source: admit, record, answer. */
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
    const receivedAt = Date.now();
    let admission: Admission;
    try {
      admission = await admitRequest(source, request, { secret, settings: sourceSettings(source), maxBodyBytes: limit, receivedAt });
    } catch (error) {
      // Admission answers every fault of the request itself; what is left is ours, and nothing was stored.
      console.error(`${source.name} request could not be admitted:`, error);
      return json(
        503,
        { error: "The request could not be checked (a failure on this side); nothing was kept. Send it again." },
        { "Retry-After": String(RETRY_AFTER_SECONDS) },
      );
    }
    if (admission.kind === "answer") {
      return json(200, admission.body);
    }
    if (admission.kind === "reject") {
      return json(admission.status, { error: admission.error });
    }
    let recorded: Recorded;
    try {
      recorded = await recordDelivery(ctx, source.name, admission, receivedAt);
    } catch (error) {
      console.error(`${source.name} delivery ${admission.deliveryKey} could not be recorded:`, error);
      return json(
        503,
        { error: "The delivery could not be recorded (a transient storage or database failure); nothing was kept. Send it again." },
        { "Retry-After": String(RETRY_AFTER_SECONDS) },
      );
    }
    if (admission.reply !== undefined) {
      return json(200, admission.reply);
    }
    if (admission.atReceipt !== undefined) {
      const told =
        recorded.status === "duplicate"
          ? "This request was received before, and answered then; nothing was done again."
          : recorded.told || "Done.";
      return json(200, admission.atReceipt.respond(told));
    }
    return json(200, {
      status: recorded.status,
      delivery: recorded.deliveryId,
      ...(recorded.status === "ignored" ? { reason: ignoredReasonOf(admission) } : {}),
    });
  });
}

/**
 * What makes a delivery the same as one recorded: its key and body, and the
 * event name and content type it came with (unsigned, so a copy relabelled
 * by someone else is a conflict, not the genuine delivery's duplicate).
 * Every delivery recorded now has its body's hash (the schema allows rows
 * from before bodies were hashed).
 */
const vDeliveryIdentity = schema.tables.webhook_deliveries.validator
  .pick("source", "deliveryKey", "event", "contentType")
  .extend({ bodySha256: v.string() });
type DeliveryIdentity = Infer<typeof vDeliveryIdentity>;

/** The delivery recorded with this identity, if any. */
async function sameDelivery(ctx: QueryCtx, { source, deliveryKey, bodySha256, event, contentType }: DeliveryIdentity) {
  return await ctx.db
    .query("webhook_deliveries")
    .withIndex("by_source_deliveryKey_bodySha256_event_contentType", (q) =>
      q.eq("source", source).eq("deliveryKey", deliveryKey).eq("bodySha256", bodySha256).eq("event", event).eq("contentType", contentType),
    )
    .first();
}

/** Before the body is stored: the delivery already recorded with this key, body, event and content type, if any. */
export const findDelivery = internalQuery({
  args: vDeliveryIdentity,
  returns: v.union(v.id("webhook_deliveries"), v.null()),
  handler: async (ctx, identity) => (await sameDelivery(ctx, identity))?._id ?? null,
});

/**
 * Looks the delivery up again, records it (counting a conflict when its key
 * is known with another body, event or content type) and schedules its
 * processing: one transaction.
 */
export const record = internalMutation({
  args: {
    ...schema.tables.webhook_deliveries.validator.pick("action", "body", "bodyBytes", "receivedAt").fields,
    ...vDeliveryIdentity.fields,
    ignoredReason: v.optional(v.string()),
    // A delivery applied as it is recorded (a slash command), whose answer is what applying it tells.
    atReceipt: v.optional(vInterpreted),
  },
  returns: vRecorded,
  handler: async (ctx, { ignoredReason, atReceipt, ...delivery }) => {
    const existing = await sameDelivery(ctx, delivery);
    if (existing !== null) {
      return { status: "duplicate" as const, deliveryId: existing._id };
    }
    const sameKey = await ctx.db
      .query("webhook_deliveries")
      .withIndex("by_source_deliveryKey_bodySha256_event_contentType", (q) =>
        q.eq("source", delivery.source).eq("deliveryKey", delivery.deliveryKey),
      )
      .first();
    if (sameKey !== null) {
      await countConflict(ctx, delivery.source);
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
    // A paused source's delivery is stored and held (no attempt due, no run) until ingest:resume.
    const paused = await processingPaused(ctx, delivery.source);
    const deliveryId = await insertDelivery(ctx, {
      ...delivery,
      status: "accepted",
      attempts: 0,
      nextAttemptAt: paused ? undefined : delivery.receivedAt,
    });
    if (paused) {
      // A slash command too: a pause stops every effect of its source, so it is carried out on resume, and the person is told so.
      return { status: "accepted" as const, deliveryId, told: atReceipt === undefined ? undefined : ANSWERS.paused() };
    }
    if (atReceipt !== undefined) {
      // Its effects and its record commit together, or neither does (the sender is then answered 503).
      const told = await applyDelivery(ctx, (await ctx.db.get("webhook_deliveries", deliveryId))!, atReceipt);
      return { status: "accepted" as const, deliveryId, told: told.join("\n") };
    }
    const scheduledRunId = await ctx.scheduler.runAfter(0, internal.inbox.process.processDelivery, { deliveryId });
    await ctx.db.patch("webhook_deliveries", deliveryId, { scheduledRunId });
    return { status: "accepted" as const, deliveryId };
  },
});
