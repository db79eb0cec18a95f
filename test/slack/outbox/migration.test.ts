import { describe, expect, test } from "vitest";
import { newBackend } from "../../helpers/backend";
import { asService } from "../../helpers/callers";
import { snapshotTables } from "../../helpers/assertions";
import { OUTBOX_ITERATIONS, settle } from "../../helpers/clock";
import { ALICE, TEAM } from "../../helpers/senders/slack";
import { api, internal } from "../../../convex/_generated/api";
import { CHANNEL, slackThread, withSlackOutbox } from "../../helpers/slack/outbox";
import { outboxRows, outboxCounts } from "../../helpers/outbox/rows";

/*
 * Rows of the Slack outbox from before the outbox took any destination,
 * moved into the one outbox by migrations:moveSlackOutbox.
 */

const fake = withSlackOutbox();

describe("the Slack outbox from before the outbox took any destination", () => {
  test("migrations:moveSlackOutbox moves queued and failed rows in their channel's order, drops sent ones, and the card still collapses", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    const thread = { team: TEAM, channel: CHANNEL, threadTs };
    const workOrderId = await t.run(async (ctx) => {
      const now = Date.now();
      const messageId = await ctx.db.insert("chat_messages", { sessionId, role: "assistant", content: "x", createdAt: now });
      const workOrderId = await ctx.db.insert("work_orders", {
        sessionId,
        workflowType: "codex-implement",
        prompt: "Fix SSO",
        title: "SSO login",
        status: "running",
        requestedBy: "alice",
        createdAt: now,
        updatedAt: now,
      });
      const reply = (text: string) => ({ kind: "reply" as const, messageId, part: 1, parts: 1, text });
      const legacy = async (request: Parameters<typeof ctx.db.insert<"slack_outbox">>[1]["request"], row: object) =>
        await ctx.db.insert("slack_outbox", { ...thread, request, attempts: 0, status: "queued", nextAttemptAt: now, ...row });
      await legacy(reply("old"), { status: "sent", attempts: 1, ts: "1747213923.000900", finishedAt: now });
      await legacy(reply("lost"), { status: "failed", attempts: 1, error: "not_in_channel", finishedAt: now });
      await legacy(reply("first"), {});
      const cardRow = await legacy({ kind: "card", workOrderId }, {});
      await legacy(reply("second"), { status: "sending", attempts: 1, method: "chat.postMessage" });
      await legacy({ kind: "ephemeral", user: ALICE, text: "Only you can see this." }, {});
      await ctx.db.insert("slack_cards", { workOrderId, ...thread, queued: cardRow });
      const runner = await ctx.scheduler.runAfter(60 * 60_000, internal.outbox.maintenance.purgeSent, {});
      await ctx.db.insert("slack_lanes", { team: TEAM, channel: CHANNEL, runner, runAt: now + 60 * 60_000 });
      await ctx.db.insert("slack_outbox_counters", { status: "queued", shard: 0, count: 4 });
      return workOrderId;
    });

    expect(await t.mutation(internal.migrations.moveSlackOutbox, {})).toEqual({ moved: 5, dropped: 1, done: false });
    // A change while the moved card row waits collapses into it.
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: "succeeded" });
    await settle(t, OUTBOX_ITERATIONS);

    const tables = await snapshotTables(t);
    expect([tables.slack_outbox, tables.slack_lanes, tables.slack_outbox_counters]).toEqual([[], [], []]);
    // The channel's rows in their order; the ephemeral answer on its person's own lane.
    expect(fake.slack.calls.filter(({ method }) => method === "chat.postMessage").map(({ args }) => args.text)).toEqual([
      "first",
      "Work order SSO login: succeeded",
      "second",
    ]);
    expect(fake.slack.ephemerals.map(({ user, text }) => [user, text])).toEqual([[ALICE, "Only you can see this."]]);
    // The row left sending is looked for in the thread before it is posted again.
    expect(fake.slack.reads).toHaveLength(1);
    expect((await outboxRows(t)).map(({ request, status, attempts, error }) => [request.text ?? request.kind, status, attempts, error])).toEqual([
      ["lost", "failed", 1, "not_in_channel"],
      ["first", "sent", 1, undefined],
      ["card", "sent", 1, undefined],
      ["second", "sent", 2, undefined],
      ["Only you can see this.", "sent", 1, undefined],
    ]);
    const card = await t.run(async (ctx) => await ctx.db.query("slack_cards").first());
    expect(card).toMatchObject({ ts: fake.slack.thread(CHANNEL, threadTs).find((message) => message.text.startsWith("Work order"))!.ts });
    expect(card?.queued).toBeUndefined();
    expect(await outboxCounts(t, "slack")).toEqual({ queued: 0, sending: 0, sent: 4, failed: 1 });
    expect(await t.mutation(internal.migrations.moveSlackOutbox, {})).toEqual({ moved: 0, dropped: 0, done: true });
  });
});
