import { v, type Infer } from "convex/values";
import { internal } from "../_generated/api";
import { httpAction, internalMutation, type ActionCtx, type QueryCtx } from "../_generated/server";
import schema from "../schema";
import { admitRequest } from "../../src/sources/admission";
import type { Admission, SourceName, WebhookSource } from "../../src/sources/source";
import { LIMITS } from "../../src/limits";
import { truncate } from "../../src/text";
import { vInterpretation } from "../../src/commands";
import { inlineBodyBytes, maxBodyBytes, setting, sourceSettings } from "../model/platform/config";
import { countConflict, insertDelivery, scheduleProcessing } from "../model/inbox/deliveries";
import { applyNewDelivery, interpreted } from "../model/inbox/applyDelivery";
import { keepBody, sameBody, vIncomingBody, type IncomingBody } from "../model/inbox/bodies";
import { processingPaused } from "../model/inbox/pauses";
import { ANSWERS } from "../../src/slack/answers";

/*
 * Receiving a webhook (docs/contract.md#3-webhook-routes): admit (verify, read),
 * then record the delivery, or find it recorded, in one mutation, and
 * answer. A delivery that cannot be recorded is answered 503, and its body
 * is not kept. A slash command is applied in that same mutation, and
 * answered with the outcome.
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

/**
 * Records an admitted delivery in one mutation, or finds it already
 * recorded. A body of at most WEBHOOK_INLINE_BODY_BYTES goes to the mutation
 * as its text; a larger one is stored first, and dropped again when the
 * delivery was known or could not be recorded.
 */
async function recordDelivery(
  ctx: ActionCtx,
  source: SourceName,
  admission: Admitted,
  { receivedAt, inlineLimit }: { receivedAt: number; inlineLimit: number },
): Promise<Recorded> {
  const inline = admission.bodyBytes <= inlineLimit;
  const body: IncomingBody = inline
    ? { text: admission.bodyText }
    : { file: await ctx.storage.store(new Blob([admission.bodyText], { type: admission.contentType })) };
  try {
    const recorded = await ctx.runMutation(internal.inbox.receive.record, {
      source,
      deliveryKey: admission.deliveryKey,
      event: admission.event,
      contentType: admission.contentType,
      action: admission.action,
      body,
      bodyBytes: admission.bodyBytes,
      receivedAt,
      ignoredReason: ignoredReasonOf(admission),
      atReceipt: admission.atReceipt?.interpretation,
    });
    if (recorded.status === "duplicate" && "file" in body) {
      await ctx.storage.delete(body.file);
    }
    return recorded;
  } catch (error) {
    if ("file" in body) {
      await ctx.storage.delete(body.file);
    }
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
    let inlineLimit: number;
    try {
      limit = maxBodyBytes();
      inlineLimit = inlineBodyBytes();
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
      recorded = await recordDelivery(ctx, source.name, admission, { receivedAt, inlineLimit });
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

/** What names a delivery besides its body: its key, and the event name and content type it came with. */
const vDeliveryIdentity = schema.tables.webhook_deliveries.validator.pick("source", "deliveryKey", "event", "contentType");
type DeliveryIdentity = Infer<typeof vDeliveryIdentity>;

// The most rows one key holds with the same event and content type and other bodies: only the signing sender makes them.
const SAME_KEY_ROWS = 16;

/**
 * The delivery recorded with this key, body, event and content type, if any
 * (docs/contract.md#3-webhook-routes: the event name and content type are
 * unsigned, so a copy relabelled by someone else is a conflict, not the
 * genuine delivery's duplicate); and whether the key is known at all. A new
 * key costs one empty index read, and no body is hashed or compared.
 */
async function recordedCopy(ctx: QueryCtx, identity: DeliveryIdentity, body: IncomingBody, bodyBytes: number) {
  const { source, deliveryKey, event, contentType } = identity;
  const byKey = () =>
    ctx.db
      .query("webhook_deliveries")
      .withIndex("by_source_deliveryKey_bodySha256_event_contentType", (q) => q.eq("source", source).eq("deliveryKey", deliveryKey));
  if ((await byKey().first()) === null) {
    return { duplicate: null, keyKnown: false };
  }
  const unhashed = await ctx.db
    .query("webhook_deliveries")
    .withIndex("by_source_deliveryKey_bodySha256_event_contentType", (q) =>
      q.eq("source", source).eq("deliveryKey", deliveryKey).eq("bodySha256", undefined).eq("event", event).eq("contentType", contentType),
    )
    .take(SAME_KEY_ROWS);
  // Rows recorded while bodies were hashed on receipt.
  const hashed = await ctx.db
    .query("webhook_deliveries")
    .withIndex("by_source_deliveryKey_bodySha256_event_contentType", (q) =>
      q.eq("source", source).eq("deliveryKey", deliveryKey).gte("bodySha256", ""),
    )
    .take(SAME_KEY_ROWS);
  for (const row of [...unhashed, ...hashed]) {
    if (row.event === event && row.contentType === contentType && (await sameBody(ctx, row, body, bodyBytes))) {
      return { duplicate: row, keyKnown: true };
    }
  }
  return { duplicate: null, keyKnown: true };
}

/**
 * Records a delivery, or answers that it is a duplicate (counting a conflict
 * when its key is known with another body, event or content type): the row
 * is inserted once, with its body beside it, and its processing scheduled,
 * in one transaction. A slash command is applied here, and its row inserted
 * in the status applying left it in.
 */
export const record = internalMutation({
  args: {
    ...schema.tables.webhook_deliveries.validator.pick("action", "bodyBytes", "receivedAt").fields,
    ...vDeliveryIdentity.fields,
    body: vIncomingBody,
    ignoredReason: v.optional(v.string()),
    // A delivery applied as it is recorded (a slash command), whose answer is what applying it tells.
    atReceipt: v.optional(vInterpretation),
  },
  returns: vRecorded,
  handler: async (ctx, { ignoredReason, atReceipt, body, ...identity }) => {
    const copy = await recordedCopy(ctx, identity, body, identity.bodyBytes);
    if (copy.duplicate !== null) {
      return { status: "duplicate" as const, deliveryId: copy.duplicate._id };
    }
    if (copy.keyKnown) {
      await countConflict(ctx, identity.source);
    }
    const delivery = { ...identity, inline: "text" in body ? (true as const) : undefined };
    if (ignoredReason !== undefined) {
      const deliveryId = await insertDelivery(ctx, {
        ...delivery,
        status: "ignored",
        attempts: 0,
        ignoredReason,
        finishedAt: delivery.receivedAt,
      });
      await keepBody(ctx, deliveryId, body);
      return { status: "ignored" as const, deliveryId };
    }
    // A paused source's delivery is stored and held (no attempt due, no run) until ingest:resume.
    if (await processingPaused(ctx, delivery.source)) {
      const deliveryId = await insertDelivery(ctx, { ...delivery, status: "accepted", attempts: 0 });
      await keepBody(ctx, deliveryId, body);
      // A slash command too: a pause stops every effect of its source, so it is carried out on resume, and the person is told so.
      return { status: "accepted" as const, deliveryId, told: atReceipt === undefined ? undefined : ANSWERS.paused() };
    }
    if (atReceipt !== undefined) {
      const { deliveryId, told } = await applyNewDelivery(ctx, delivery, body, await interpreted(atReceipt));
      return { status: "accepted" as const, deliveryId, told: told.join("\n") };
    }
    const deliveryId = await insertDelivery(ctx, { ...delivery, status: "accepted", attempts: 0, nextAttemptAt: delivery.receivedAt });
    // Recovery and replay find the run by the body's document, written once beside the row.
    await keepBody(ctx, deliveryId, body, await scheduleProcessing(ctx, { _id: deliveryId, inline: delivery.inline }));
    return { status: "accepted" as const, deliveryId };
  },
});
