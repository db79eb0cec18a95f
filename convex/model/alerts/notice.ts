import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx } from "../../_generated/server";
import { alertDue, alertText, conditionOf, OLDEST_FAILURE_AGES, type Alert, type ConditionKey, type OldestFailure } from "../../../src/alerts";
import { settingState } from "../../../src/settings";
import { SOURCES } from "../../../src/sources/source";
import { enqueue } from "../../outbox/enqueue";
import { DESTINATIONS, slackOutbox } from "../../outbox/registry";
import { countFailedRows } from "../../outbox/rows";
import { deliveryCounts } from "../inbox/deliveries";
import { setting } from "../platform/config";
import { laneOfRequest, type SlackRequest } from "../slack/requests";

/*
 * Operator alerts (docs/operations.md#alerts), noticed in the transaction
 * that makes the condition (a delivery or an outbox row failed for good,
 * orders the reconciler failed) or by the alerts cron (the oldest failure's
 * age), and posted through the outbox's Slack destination to
 * SLACK_ALERTS_CHANNEL. Each condition is told at most once an hour.
 *
 * Noticing never makes a document hot: the condition's row is read, and
 * written only by the transaction that queues an alert (at most once an
 * hour). Transactions that notice the condition at the same time all read
 * that row; the one that writes it makes the others run again once, and
 * they then find the alert told. Counts are the counters' own
 * (delivery_tallies, outbox_tallies), read only when an alert is queued
 * (docs/architecture.md#operator-alerts).
 */

/** The alerts channel, when it and the bot token are set and it is well-formed; else null, and nothing is read, written or queued. */
export function alertsChannel(): string | null {
  const channel = setting("SLACK_ALERTS_CHANNEL");
  if (channel === undefined || setting("SLACK_BOT_TOKEN") === undefined) {
    return null;
  }
  return settingState("SLACK_ALERTS_CHANNEL", channel).state === "set" ? channel : null;
}

async function conditionRow(ctx: MutationCtx, condition: ConditionKey) {
  return await ctx.db
    .query("alert_conditions")
    .withIndex("by_condition", (q) => q.eq("condition", condition))
    .unique();
}

type ConditionRow = Doc<"alert_conditions"> | null;

/** Queues the alert to the alerts channel and records its condition told now. */
async function tell(ctx: MutationCtx, channel: string, alert: Alert, row: ConditionRow, change: { subject?: string } = {}) {
  const request: SlackRequest = { kind: "alert", channel, text: alertText(alert) };
  await enqueue(ctx, slackOutbox, laneOfRequest(request), [{ request }]);
  const told = { lastAlertedAt: Date.now(), noticed: undefined, ...change };
  if (row === null) {
    await ctx.db.insert("alert_conditions", { condition: conditionOf(alert), ...told });
  } else {
    await ctx.db.patch("alert_conditions", row._id, told);
  }
}

/**
 * Runs a notice so that it never fails the transaction that noticed: a
 * mistake in alerting is logged, and what the transaction did stands.
 */
async function safely(what: string, notice: () => Promise<void>) {
  try {
    await notice();
  } catch (error) {
    console.error(`alerts: ${what} could not be told: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * Tells the alert `build` makes once the condition is due (at most once an
 * hour), when alerts are on; whatever goes wrong, the caller's transaction stands.
 */
async function tellWhenDue(ctx: MutationCtx, what: string, condition: ConditionKey, build: () => Promise<Alert>) {
  const channel = alertsChannel();
  if (channel === null) {
    return;
  }
  await safely(what, async () => {
    const row = await conditionRow(ctx, condition);
    if (alertDue(row?.lastAlertedAt, Date.now())) {
      await tell(ctx, channel, await build(), row);
    }
  });
}

/** A delivery failed for good (no attempt left): told when its source's condition is due. */
export async function noticeDeliveryFailed(ctx: MutationCtx, delivery: Doc<"webhook_deliveries">, error: string) {
  const { source } = delivery;
  await tellWhenDue(ctx, "a failed delivery", `deliveryFailed:${source}`, async () => ({
    kind: "deliveryFailed",
    source,
    deliveryId: delivery._id,
    event: delivery.event,
    error,
    failed: (await deliveryCounts(ctx, source)).failed,
  }));
}

/** Whether an outbox row is an alert: one that fails is not told again. */
function isAlert(row: Doc<"outbox">): boolean {
  return row.destination === slackOutbox.destination && (row.request as SlackRequest).kind === "alert";
}

/** An outbox row failed for good: told when its destination's condition is due, unless the row is an alert. */
export async function noticeOutboxFailed(ctx: MutationCtx, row: Doc<"outbox">, error: string) {
  if (isAlert(row)) {
    return;
  }
  const { destination } = row;
  await tellWhenDue(ctx, "a failed outbox row", `outboxFailed:${destination}`, async () => ({
    kind: "outboxFailed",
    destination,
    rowId: row._id,
    request: String((row.request as { kind?: unknown }).kind),
    error,
    failed: await countFailedRows(ctx, destination),
  }));
}

/**
 * The reconciler failed these orders: told when due, with those it failed
 * since the last alert; else counted in the condition's row, which only the
 * reconciler's pages write, one at a time. The alerts cron tells what is
 * counted once the hour has passed.
 */
export async function noticeOrdersFailed(ctx: MutationCtx, workOrderIds: Id<"work_orders">[]) {
  const channel = alertsChannel();
  if (channel === null || workOrderIds.length === 0) {
    return;
  }
  await safely("failed work orders", async () => {
    const row = await conditionRow(ctx, "ordersFailed");
    const orders = (row?.noticed ?? 0) + workOrderIds.length;
    if (row !== null && !alertDue(row.lastAlertedAt, Date.now())) {
      await ctx.db.patch("alert_conditions", row._id, { noticed: orders });
      return;
    }
    await tell(ctx, channel, { kind: "ordersFailed", orders, examples: workOrderIds }, row);
  });
}

// Failed outbox rows looked at to find the oldest that is not an alert (failed alerts are not told).
const OLDEST_ROWS_LOOKED_AT = 20;

/** The failure waiting longest: the oldest delivery failed for good, or the oldest failed outbox row that is not an alert. */
async function oldestFailure(ctx: MutationCtx): Promise<OldestFailure | null> {
  const delivery = await ctx.db
    .query("webhook_deliveries")
    .withIndex("by_status_nextAttemptAt", (q) => q.eq("status", "failed").eq("nextAttemptAt", undefined))
    .first();
  const rows = await ctx.db
    .query("outbox")
    .withIndex("by_status_finishedAt", (q) => q.eq("status", "failed"))
    .take(OLDEST_ROWS_LOOKED_AT);
  const row = rows.find((candidate) => !isAlert(candidate));
  const failures: OldestFailure[] = [];
  if (delivery !== null) {
    failures.push({ what: "delivery", source: delivery.source, id: delivery._id, failedAt: delivery.finishedAt ?? delivery.receivedAt });
  }
  if (row !== undefined) {
    failures.push({ what: "outbox row", destination: row.destination, id: row._id, failedAt: row.finishedAt ?? row.enqueuedAt });
  }
  return failures.sort((a, b) => a.failedAt - b.failedAt)[0] ?? null;
}

/**
 * The alerts cron: the oldest failure told once when it passes an hour and
 * once when it passes a day (a failure first seen past a day is told as
 * such), and the orders counted since the last alert once it is due.
 */
export async function checkAlerts(ctx: MutationCtx) {
  const channel = alertsChannel();
  if (channel === null) {
    return;
  }
  const now = Date.now();
  const orders = await conditionRow(ctx, "ordersFailed");
  if (orders !== null && (orders.noticed ?? 0) > 0 && alertDue(orders.lastAlertedAt, now)) {
    await tell(ctx, channel, { kind: "ordersFailed", orders: orders.noticed!, examples: [] }, orders);
  }
  const oldest = await oldestFailure(ctx);
  if (oldest === null || now - oldest.failedAt < OLDEST_FAILURE_AGES.hour) {
    return;
  }
  const age = now - oldest.failedAt >= OLDEST_FAILURE_AGES.day ? "day" : "hour";
  const row = await conditionRow(ctx, `oldestFailure:${age}`);
  if (row?.subject === oldest.id || !alertDue(row?.lastAlertedAt, now)) {
    return;
  }
  let failedDeliveries = 0;
  for (const source of SOURCES) {
    failedDeliveries += (await deliveryCounts(ctx, source)).failed;
  }
  let failedRows = 0;
  for (const destination of DESTINATIONS) {
    failedRows += await countFailedRows(ctx, destination);
  }
  await tell(ctx, channel, { kind: "oldestFailure", age, oldest, now, failedDeliveries, failedRows }, row, { subject: oldest.id });
}
