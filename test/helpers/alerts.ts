import { expect, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { insertDelivery } from "../../convex/model/inbox/deliveries";
import { enqueue } from "../../convex/outbox/enqueue";
import { slackOutbox } from "../../convex/outbox/registry";
import type { Backend } from "./backend";
import { asService } from "./callers";
import { MINUTE, settle, withFakeClock } from "./clock";
import { newSession, newWorkOrder } from "./records";
import { TEAM, withFakeSlack } from "./senders/slack";

/**
 * Operator alerts (docs/operations.md#alerts): the alerts channel, and the
 * steps that bring about each condition an alert is posted for.
 */

export const ALERTS = "C0ALERTS";
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/**
 * For a test file about alerts: a fake clock and a fake Slack; what the
 * alerts channel shows, and an outbox row Slack refuses for good.
 */
export function withAlerts() {
  withFakeClock({ now: new Date("2025-05-14T09:00:00Z") });
  const fake = withFakeSlack();

  /** What the alerts channel shows: its messages' texts, each posted in no thread. */
  function alertsPosted(): string[] {
    const posted = fake.slack.messages.filter((message) => message.channel === ALERTS);
    for (const message of posted) {
      expect(message.threadTs).toBeUndefined();
    }
    return posted.map((message) => message.text);
  }

  /** An ephemeral answer queued in a session's channel, which Slack refuses for good (`not_in_channel`). */
  async function failedOutboxRow(t: Backend) {
    const [rowId] = await t.run(
      async (ctx) =>
        await enqueue(ctx, slackOutbox, `${TEAM}:C0AB1`, [
          { request: { kind: "ephemeral", thread: { team: TEAM, channel: "C0AB1", threadTs: "1715677200.000100" }, user: "U0ALICE", text: "Only you see this." } },
        ]),
    );
    fake.slack.answerNext({ error: "not_in_channel" });
    await settle(t);
    return rowId;
  }

  return { fake, alertsPosted, failedOutboxRow };
}

export function alertsOn() {
  vi.stubEnv("SLACK_ALERTS_CHANNEL", ALERTS);
}

let deliveries = 0;

/** A GitHub delivery processed once and failed for good (its body does not read), through inbox/process.ts's recordFailure. */
export async function failedDelivery(t: Backend): Promise<Id<"webhook_deliveries">> {
  deliveries += 1;
  const deliveryId = await t.run(async (ctx) =>
    insertDelivery(ctx, {
      source: "github",
      deliveryKey: `alerts-${deliveries}`,
      event: "push",
      contentType: "application/json",
      body: await ctx.storage.store(new Blob(["{}"])),
      bodyBytes: 2,
      receivedAt: Date.now(),
      status: "accepted",
      attempts: 0,
      nextAttemptAt: Date.now(),
    }),
  );
  await t.mutation(internal.inbox.process.recordFailure, { deliveryId, outcome: "uninterpretable", error: "A stored github delivery no longer reads: <html>" });
  return deliveryId;
}

/** A live order, untouched for a month: the reconciler (without Temporal) fails it as stale. */
export async function staleOrder(t: Backend) {
  const workOrderId = await newWorkOrder(t, await newSession(t, "alice"));
  await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: "accepted" });
  await t.run(async (ctx) => await ctx.db.patch("work_orders", workOrderId, { updatedAt: Date.now() - 30 * DAY }));
  return workOrderId;
}

export async function conditions(t: Backend) {
  return await t.run(async (ctx) => await ctx.db.query("alert_conditions").collect());
}
