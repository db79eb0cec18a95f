import { describe, expect, test, vi } from "vitest";
import { internal } from "../../convex/_generated/api";
import { newBackend } from "../helpers/backend";
import { settle } from "../helpers/clock";
import { recordWriteSets } from "../helpers/bench/writeSets";
import { alertsOn, conditions, DAY, failedDelivery, HOUR, staleOrder, withAlerts } from "../helpers/alerts";
import { outboxRows } from "../helpers/outbox/rows";
import { reconcile } from "../helpers/temporal";

/*
 * Operator alerts (docs/operations.md#alerts) stay out of the way: an alert
 * that fails is not told again, nothing is written without the alerts
 * channel, and a burst of failures writes its condition once.
 */

const { fake, alertsPosted, failedOutboxRow } = withAlerts();

describe("alerting stays out of the way", () => {
  test("an alert that fails for good is not told again: not as a failed row, not as the oldest failure", async () => {
    alertsOn();
    const t = newBackend();
    // The bot is not in the alerts channel: every post there is refused.
    fake.slack.answerNext({ error: "not_in_channel" });
    await failedDelivery(t);
    await settle(t);
    const alertRows = (await outboxRows(t)).filter((row) => row.request.kind === "alert");
    expect(alertRows).toEqual([expect.objectContaining({ status: "failed", error: expect.stringContaining("not_in_channel") })]);
    expect(await conditions(t)).toEqual([expect.objectContaining({ condition: "deliveryFailed:github" })]);

    // Hours later, only the failed delivery is the oldest failure, never the failed alert.
    await t.run(async (ctx) => {
      const delivery = await ctx.db.query("webhook_deliveries").first();
      await ctx.db.delete("webhook_deliveries", delivery!._id);
    });
    vi.advanceTimersByTime(2 * HOUR);
    await t.mutation(internal.alerts.check, {});
    await settle(t);
    expect((await outboxRows(t)).filter((row) => row.request.kind === "alert")).toHaveLength(1);
    expect(await conditions(t)).toHaveLength(1);
  });

  test("without SLACK_ALERTS_CHANNEL (or without the bot token) nothing is written or queued", async () => {
    const t = newBackend();
    await failedDelivery(t);
    await failedOutboxRow(t);
    await staleOrder(t);
    await reconcile(t);
    vi.advanceTimersByTime(2 * DAY);
    await t.mutation(internal.alerts.check, {});
    await settle(t);
    expect(await conditions(t)).toEqual([]);
    expect((await outboxRows(t)).map((row) => row.request.kind)).toEqual(["ephemeral"]);
    expect(alertsPosted()).toEqual([]);

    alertsOn();
    vi.stubEnv("SLACK_BOT_TOKEN", "");
    await failedDelivery(t);
    await t.mutation(internal.alerts.check, {});
    expect(await conditions(t)).toEqual([]);
    expect((await outboxRows(t)).map((row) => row.request.kind)).toEqual(["ephemeral"]);
  });

  test("a burst of 50 deliveries failing writes the condition's row once, and queues one alert", async () => {
    alertsOn();
    const t = newBackend();
    await failedDelivery(t);
    await t.run(async (ctx) => {
      const row = (await ctx.db.query("alert_conditions").first())!;
      await ctx.db.patch("alert_conditions", row._id, { lastAlertedAt: Date.now() - 2 * HOUR });
    });
    const writeSets = await recordWriteSets(async () => {
      for (let i = 0; i < 50; i += 1) {
        await failedDelivery(t);
      }
    });
    const conditionTable = await t.run(async (ctx) => (await ctx.db.query("alert_conditions").first())!._id);
    const wroteCondition = writeSets.filter((writes) => [...writes].some((doc) => doc.includes(conditionTable)));
    expect(wroteCondition).toHaveLength(1);
    const alerts = (await outboxRows(t)).filter((row) => row.request.kind === "alert");
    expect(alerts).toHaveLength(2);
  });
});
