import fc from "fast-check";
import { describe, expect, test, vi } from "vitest";
import { api, internal } from "../convex/_generated/api";
import type { Id } from "../convex/_generated/dataModel";
import { insertDelivery } from "../convex/model/inbox/deliveries";
import { enqueue } from "../convex/outbox/enqueue";
import { slackOutbox } from "../convex/outbox/registry";
import { alertText } from "../src/alerts";
import { newBackend, type Backend } from "./helpers/backend";
import { asService } from "./helpers/callers";
import { withFakeClock, settle } from "./helpers/clock";
import { newSession, newWorkOrder, statusOf } from "./helpers/records";
import { TEAM, withFakeSlack } from "./helpers/senders/slack";
import { recordWriteSets } from "./helpers/writeSets";

/*
 * Operator alerts (docs/operations.md#alerts): with SLACK_ALERTS_CHANNEL
 * set, a delivery or an outbox row that fails for good, orders the
 * reconciler fails, and the oldest failure past an hour and a day are
 * posted to that channel through the outbox, each condition at most once
 * an hour, with its counts and the command that helps.
 */

const ALERTS = "C0ALERTS";
const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

withFakeClock({ now: new Date("2025-05-14T09:00:00Z") });
const fake = withFakeSlack();

function alertsOn() {
  vi.stubEnv("SLACK_ALERTS_CHANNEL", ALERTS);
}

/** What the alerts channel shows: its messages' texts, each posted in no thread. */
function alertsPosted(): string[] {
  const posted = fake.slack.messages.filter((message) => message.channel === ALERTS);
  for (const message of posted) {
    expect(message.threadTs).toBeUndefined();
  }
  return posted.map((message) => message.text);
}

let deliveries = 0;

/** A GitHub delivery processed once and failed for good (its body does not read), through inbox/process.ts's recordFailure. */
async function failedDelivery(t: Backend): Promise<Id<"webhook_deliveries">> {
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

/** A live order, untouched for a month: the reconciler (without Temporal) fails it as stale. */
async function staleOrder(t: Backend) {
  const workOrderId = await newWorkOrder(t, await newSession(t, "alice"));
  await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: "accepted" });
  await t.run(async (ctx) => await ctx.db.patch("work_orders", workOrderId, { updatedAt: Date.now() - 30 * DAY }));
  return workOrderId;
}

async function reconcile(t: Backend) {
  await t.mutation(internal.reconcile.sweep, {});
  await settle(t);
}

async function conditions(t: Backend) {
  return await t.run(async (ctx) => await ctx.db.query("alert_conditions").collect());
}

async function outboxRows(t: Backend) {
  return await t.run(async (ctx) => await ctx.db.query("outbox").collect());
}

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

describe("an alert's text", () => {
  test("whatever a sender or another service wrote, it cannot mention, link or break the markup, and stays short", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 2000 }), fc.string({ maxLength: 200 }), (error, event) => {
        const text = alertText({ kind: "deliveryFailed", source: "github", deliveryId: "k57b8fyq3gw2xxfd4qbqtxj8zx7g0gp4", event, error, failed: 2 });
        expect(text).not.toMatch(/[<>]/);
        expect(text.split("\n")).toHaveLength(7);
        expect(text.length).toBeLessThan(1_500);
      }),
    );
  });
});
