import { describe, expect, test, vi } from "vitest";
import { newBackend } from "../../helpers/backend";
import { OUTBOX_ITERATIONS, settle } from "../../helpers/clock";
import { internal } from "../../../convex/_generated/api";
import { CHANNEL, reply, slackThread, withSlackOutbox } from "../../helpers/slack/outbox";
import { outboxRows, outboxCounts } from "../../helpers/outbox/rows";

/*
 * The Slack outbox's recovery and purge: a lost runner replaced, a row a
 * dead run left sending sent again (or found already posted), sent rows
 * purged after DELIVERY_RETENTION_DAYS.
 */

const fake = withSlackOutbox();

describe("recovery and purge", () => {
  test("a lost runner is replaced by the recovery cron; a runner still pending is left alone", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    await reply(t, sessionId, "Done.");
    const lane = await t.run(async (ctx) => (await ctx.db.query("outbox_lanes").collect())[0]);
    // Due long ago but still pending: Convex will run it, so nothing is added.
    await t.run(async (ctx) => await ctx.db.patch("outbox_lanes", lane._id, { runAt: Date.now() - 11 * 60_000 }));
    expect(await t.mutation(internal.outbox.maintenance.recoverLost, {})).toBe(0);
    // The run is lost: recovery starts another once it is overdue.
    await t.run(async (ctx) => await ctx.scheduler.cancel(lane.runner!));
    expect(await t.mutation(internal.outbox.maintenance.recoverLost, {})).toBe(0);
    await vi.advanceTimersByTimeAsync(11 * 60_000);
    expect(await t.mutation(internal.outbox.maintenance.recoverLost, {})).toBe(1);
    await settle(t, OUTBOX_ITERATIONS);
    expect(fake.slack.thread(CHANNEL, threadTs).map((message) => message.text)).toEqual(["Done."]);
  });

  test("a row left sending by a run that died is sent again by the next run, and counted as an attempt", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    await reply(t, sessionId, "Done.");
    await t.run(async (ctx) => {
      const lane = (await ctx.db.query("outbox_lanes").collect())[0];
      await ctx.scheduler.cancel(lane.runner!);
      const row = (await ctx.db.query("outbox").collect())[0];
      await ctx.db.patch("outbox", row._id, { status: "sending", attempts: 1, method: "chat.postMessage" });
      await ctx.db.patch("outbox_lanes", lane._id, { runAt: Date.now() - 11 * 60_000 });
    });
    expect(await t.mutation(internal.outbox.maintenance.recoverLost, {})).toBe(1);
    await settle(t, OUTBOX_ITERATIONS);
    expect(fake.slack.thread(CHANNEL, threadTs).map((message) => message.text)).toEqual(["Done."]);
    expect(await outboxRows(t)).toEqual([expect.objectContaining({ status: "sent", attempts: 2 })]);
    expect(fake.slack.reads).toHaveLength(1);
  });

  test("a row left sending by a run that died after Slack posted it is found in the thread and recorded as sent", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    await reply(t, sessionId, "Done.");
    const row = (await outboxRows(t))[0];
    await t.run(async (ctx) => {
      const lane = (await ctx.db.query("outbox_lanes").collect())[0];
      await ctx.scheduler.cancel(lane.runner!);
      await ctx.db.patch("outbox", row._id, { status: "sending", attempts: 1, method: "chat.postMessage" });
      await ctx.db.patch("outbox_lanes", lane._id, { runAt: Date.now() - 11 * 60_000 });
    });
    // Slack had posted it before the run died.
    const ts = `${Math.floor(Date.now() / 1000)}.999999`;
    fake.slack.messages.push({ channel: CHANNEL, ts, threadTs, text: "Done.", metadata: { event_type: "jangar_outbox_post", event_payload: { post: row._id } }, edits: 0 });
    expect(await t.mutation(internal.outbox.maintenance.recoverLost, {})).toBe(1);
    await settle(t, OUTBOX_ITERATIONS);
    expect(fake.slack.thread(CHANNEL, threadTs)).toHaveLength(1);
    expect(fake.slack.calls).toEqual([]);
    expect(await outboxRows(t)).toEqual([expect.objectContaining({ status: "sent", attempts: 2, result: ts })]);
  });

  test("sent rows are purged after DELIVERY_RETENTION_DAYS; failed ones stay, and the counts follow", async () => {
    const t = newBackend();
    const { sessionId } = await slackThread(t);
    fake.slack.answerNext({ error: "not_in_channel" });
    await reply(t, sessionId, "lost");
    await reply(t, sessionId, "kept");
    await settle(t, OUTBOX_ITERATIONS);
    await vi.advanceTimersByTimeAsync(29 * 24 * 60 * 60_000);
    expect(await t.mutation(internal.outbox.maintenance.purgeSent, {})).toBe(0);
    await vi.advanceTimersByTimeAsync(2 * 24 * 60 * 60_000);
    expect(await t.mutation(internal.outbox.maintenance.purgeSent, {})).toBe(1);
    expect((await outboxRows(t)).map((row) => [row.status, row.request.kind === "reply" && row.request.text])).toEqual([["failed", "lost"]]);
    expect(await outboxCounts(t, "slack")).toEqual({ queued: 0, sending: 0, sent: 0, failed: 1 });
  });

});
