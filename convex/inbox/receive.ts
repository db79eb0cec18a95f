import { v } from "convex/values";
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { httpAction, internalMutation } from "../_generated/server";
import schema from "../schema";
import { deliveryFieldsProblem, type WebhookSource } from "../../src/sources/source";
import { maxBodyBytes, setting, sourceSettings } from "../model/config";
import { insertDelivery } from "../model/deliveries";

/*
 * Receiving a webhook (docs/contract.md section 3): verify, then one
 * mutation that dedupes, records and schedules processing, then answer.
 */

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
    const admission = await source.admit({ headers: request.headers, body, receivedAt }, secret, sourceSettings(source));
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
      recorded = await ctx.runMutation(internal.inbox.receive.record, {
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
    const scheduledRunId = await ctx.scheduler.runAfter(0, internal.inbox.process.processDelivery, { deliveryId });
    await ctx.db.patch("webhook_deliveries", deliveryId, { scheduledRunId });
    return { status: "accepted" as const, deliveryId };
  },
});

