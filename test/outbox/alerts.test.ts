import { describe, expect, test, vi } from "vitest";
import { internal } from "../../convex/_generated/api";
import { newBackend } from "../helpers/backend";
import { MINUTE, settle } from "../helpers/clock";
import { statusOf } from "../helpers/records";
import { alertsOn, DAY, failedDelivery, HOUR, staleOrder, withAlerts } from "../helpers/alerts";
import { reconcile } from "../helpers/temporal";

/*
 * Operator alerts (docs/operations.md#alerts): with SLACK_ALERTS_CHANNEL
 * set, a delivery or an outbox row that fails for good, orders the
 * reconciler fails, and the oldest failure past an hour and a day are
 * posted to that channel through the outbox, each condition at most once
 * an hour, with its counts and the command that helps.
 */

const { alertsPosted, failedOutboxRow } = withAlerts();

describe("each condition is posted once, then not within the hour, then again after it", () => {
  test("a delivery failed for good: its source, the failed count, the commands that help", async () => {
    alertsOn();
    const t = newBackend();
    const first = await failedDelivery(t);
    await settle(t);
    const [alert] = alertsPosted();
    expect(alertsPosted()).toHaveLength(1);
    expect(alert).toContain("a github delivery failed for good");
    expect(alert).toContain(`Delivery \`${first}\` (\`push\`)`);
    // The sender's text is escaped: it cannot mention or link.
    expect(alert).toContain("no longer reads: &lt;html&gt;");
    expect(alert).toContain("Failed github deliveries now: *1*.");
    expect(alert).toContain("`npx convex run ingest:inboxStatus`");
    expect(alert).toContain(`\`npx convex run ingest:attempts '{"deliveryId": "${first}"}'\``);
    expect(alert).toContain(`\`npx convex run ingest:replayFailed '{"source": "github"}'\``);

    vi.advanceTimersByTime(59 * MINUTE);
    await failedDelivery(t);
    await settle(t);
    expect(alertsPosted()).toHaveLength(1);

    vi.advanceTimersByTime(MINUTE);
    await failedDelivery(t);
    await settle(t);
    expect(alertsPosted()).toHaveLength(2);
    expect(alertsPosted()[1]).toContain("Failed github deliveries now: *3*.");
  });

  test("an outbox row failed for good: its destination, the failed count, outbox:status and outbox:replayFailed", async () => {
    alertsOn();
    const t = newBackend();
    const rowId = await failedOutboxRow(t);
    const [alert] = alertsPosted();
    expect(alertsPosted()).toHaveLength(1);
    expect(alert).toContain("a request to slack failed for good");
    expect(alert).toContain(`Outbox row \`${rowId}\` (\`ephemeral\`): not_in_channel`);
    expect(alert).toContain("Failed slack rows now: *1*.");
    expect(alert).toContain(`\`npx convex run outbox:status '{"destination": "slack"}'\``);
    expect(alert).toContain(`\`npx convex run outbox:replayFailed '{"destination": "slack"}'\``);

    vi.advanceTimersByTime(30 * MINUTE);
    await failedOutboxRow(t);
    expect(alertsPosted()).toHaveLength(1);

    vi.advanceTimersByTime(30 * MINUTE);
    await failedOutboxRow(t);
    expect(alertsPosted()).toHaveLength(2);
    expect(alertsPosted()[1]).toContain("Failed slack rows now: *3*.");
  });

  test("orders the reconciler fails: told at once, those failed within the hour told by the cron after it", async () => {
    alertsOn();
    const t = newBackend();
    const first = await staleOrder(t);
    await reconcile(t);
    expect(await statusOf(t, first)).toBe("failed");
    await settle(t);
    expect(alertsPosted()).toHaveLength(1);
    expect(alertsPosted()[0]).toContain("the reconciler failed 1 work order*");
    expect(alertsPosted()[0]).toContain(`among them \`${first}\``);
    expect(alertsPosted()[0]).toContain("`npx convex logs`");

    vi.advanceTimersByTime(10 * MINUTE);
    await staleOrder(t);
    await staleOrder(t);
    await reconcile(t);
    await t.mutation(internal.alerts.check, {});
    await settle(t);
    expect(alertsPosted()).toHaveLength(1);

    vi.advanceTimersByTime(50 * MINUTE);
    await t.mutation(internal.alerts.check, {});
    await settle(t);
    expect(alertsPosted()).toHaveLength(2);
    expect(alertsPosted()[1]).toContain("the reconciler failed 2 work orders*");
    expect(alertsPosted()[1]).toContain("Failed since the last alert: *2*.");

    // Nothing more counted: the cron tells nothing more.
    vi.advanceTimersByTime(2 * HOUR);
    await t.mutation(internal.alerts.check, {});
    await settle(t);
    expect(alertsPosted()).toHaveLength(2);
  });

  test("the oldest failure: told when it passes an hour, once, and again when it passes a day", async () => {
    alertsOn();
    const t = newBackend();
    const deliveryId = await failedDelivery(t);
    await settle(t);
    expect(alertsPosted()).toHaveLength(1);

    vi.advanceTimersByTime(59 * MINUTE);
    await t.mutation(internal.alerts.check, {});
    await settle(t);
    expect(alertsPosted()).toHaveLength(1);

    vi.advanceTimersByTime(MINUTE);
    await t.mutation(internal.alerts.check, {});
    await settle(t);
    expect(alertsPosted()).toHaveLength(2);
    const [, hour] = alertsPosted();
    expect(hour).toContain("the oldest failure has waited over an hour*");
    expect(hour).toContain(`The github delivery \`${deliveryId}\` failed 1 hour ago`);
    expect(hour).toContain("Failed now: *1* delivery, *0* outbox rows.");
    expect(hour).toContain("`npx convex run ingest:inboxStatus`");
    expect(hour).toContain("`npx convex run ingest:replayFailed`");

    // The same failure is not told again for the hour, however long the cron keeps finding it.
    for (let i = 0; i < 4; i += 1) {
      vi.advanceTimersByTime(5 * HOUR);
      await t.mutation(internal.alerts.check, {});
    }
    await settle(t);
    expect(alertsPosted()).toHaveLength(2);

    vi.advanceTimersByTime(3 * HOUR);
    await t.mutation(internal.alerts.check, {});
    await settle(t);
    expect(alertsPosted()).toHaveLength(3);
    expect(alertsPosted()[2]).toContain("the oldest failure has waited over a day*");
    expect(alertsPosted()[2]).toContain("failed 24 hours ago");

    vi.advanceTimersByTime(DAY);
    await t.mutation(internal.alerts.check, {});
    await settle(t);
    expect(alertsPosted()).toHaveLength(3);
  });
});
