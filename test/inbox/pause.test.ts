import { beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import { FAKE_SLACK_TOKEN, FakeSlack } from "../../fakes/slack";
import aliceMentionsBot from "../../fixtures/slack/01-alice-mentions-bot.json";
import { newBackend, type Backend } from "../helpers/backend";
import { asService } from "../helpers/callers";
import { settle, withFakeClock } from "../helpers/clock";
import { processingRun, stored } from "../helpers/inbox/deliveries";
import { messagesOf, newSession, newWorkOrder, orderOf } from "../helpers/records";
import { EVENTS_SECRET, messageCreated, postEvent } from "../helpers/senders/events";
import { configureSlackApp, postSlackEvent, postSlackForm, slackSessionsOf, slashCommand, ALICE } from "../helpers/senders/slack";

/*
 * Pausing a source (docs/operations.md#pausing-a-source): while paused, its
 * deliveries are verified, stored and answered 200, and wait; once resumed
 * they are processed, oldest first, a bounded batch at a time (their runs,
 * like any deliveries' runs, may finish in any order).
 */

withFakeClock({ now: new Date("2025-05-14T09:00:00Z") });
beforeEach(() => {
  vi.stubEnv("EVENTS_WEBHOOK_SECRET", EVENTS_SECRET);
});

async function status(t: Backend) {
  return await t.query(internal.ingest.inboxStatus, {});
}

const countOf = (inbox: Awaited<ReturnType<typeof status>>, source: string, state: string) =>
  inbox.counts.find((row) => row.source === source && row.status === state)!.count;

describe("ingest:pause and ingest:resume", () => {
  test("a paused source's deliveries are verified, stored and answered 200, and processed once resumed; the inbox status says since when", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const pausedAt = Date.now();
    expect(await t.mutation(internal.ingest.pause, { source: "events", reason: "incident 42" })).toEqual({ source: "events", pausedAt, reason: "incident 42" });
    await vi.advanceTimersByTimeAsync(60_000);
    // Pausing again keeps the first pause.
    expect(await t.mutation(internal.ingest.pause, { source: "events" })).toMatchObject({ pausedAt });

    for (const content of ["first", "second", "third"]) {
      const answer = await postEvent(t, { event: messageCreated(sessionId, { role: "user", content }) });
      expect(answer).toMatchObject({ status: 200, body: { status: "accepted" } });
    }
    expect((await postEvent(t, { event: messageCreated(sessionId, { role: "user", content: "forged" }), secret: "whsec_b3RoZXIgc2VjcmV0IGtleQ==" })).status).toBe(401);
    await settle(t);
    expect(await messagesOf(t, sessionId)).toEqual([]);
    const inbox = await status(t);
    expect(inbox.paused).toEqual([{ source: "events", pausedAt, reason: "incident 42" }]);
    expect(countOf(inbox, "events", "accepted")).toBe(3);
    expect((await stored(t)).deliveries.map((row) => [row.status, row.attempts, row.scheduledRunId])).toEqual(Array(3).fill(["accepted", 0, undefined]));
    // Recovery does not take held deliveries for lost ones.
    await vi.advanceTimersByTimeAsync(20 * 60_000);
    await t.mutation(internal.inbox.maintenance.recoverLost, {});
    await settle(t);
    expect(await messagesOf(t, sessionId)).toEqual([]);

    expect(await t.mutation(internal.ingest.resume, { source: "events" })).toEqual({ source: "events", pausedAt });
    await settle(t);
    expect((await messagesOf(t, sessionId)).map((message) => message.content).sort()).toEqual(["first", "second", "third"]);
    const after = await status(t);
    expect(after.paused).toEqual([]);
    expect([countOf(after, "events", "accepted"), countOf(after, "events", "processed")]).toEqual([0, 3]);
  });

  test("pausing one source leaves the others processing", async () => {
    const t = newBackend();
    configureSlackApp();
    await t.mutation(internal.ingest.pause, { source: "github" });
    expect((await postSlackEvent(t, aliceMentionsBot)).status).toBe(200);
    await settle(t);
    expect(await slackSessionsOf(t, ALICE)).toHaveLength(1);
  });

  test("a run scheduled before the pause holds its delivery when it starts, and the resume runs it", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    await postEvent(t, { event: messageCreated(sessionId, { role: "user", content: "kept" }) });
    const [scheduled] = (await stored(t)).deliveries;
    expect(await processingRun(t, scheduled._id)).toBeDefined();

    await t.mutation(internal.ingest.pause, { source: "events" });
    await settle(t);
    const [held] = (await stored(t)).deliveries;
    expect([held.status, held.attempts, held.nextAttemptAt, held.scheduledRunId]).toEqual(["accepted", 0, undefined, undefined]);
    expect(await messagesOf(t, sessionId)).toEqual([]);

    await t.mutation(internal.ingest.resume, { source: "events" });
    await settle(t);
    expect((await messagesOf(t, sessionId)).map((message) => message.content)).toEqual(["kept"]);
  });

  test("the resume schedules at most 100 held deliveries a transaction, oldest first, and goes on in the next", async () => {
    const t = newBackend();
    await t.mutation(internal.ingest.pause, { source: "events" });
    const sessionId = await newSession(t, "alice");
    await t.run(async (ctx) => {
      for (let i = 0; i < 101; i += 1) {
        const body = await ctx.storage.store(new Blob([JSON.stringify(messageCreated(sessionId, { role: "user", content: `m${i}` }))]));
        await ctx.db.insert("webhook_deliveries", {
          source: "events",
          deliveryKey: `msg_${i}`,
          event: "chat.message.created",
          contentType: "application/json",
          body,
          bodyBytes: 100,
          receivedAt: Date.now() + i,
          status: "accepted",
          attempts: 0,
        });
      }
    });
    await t.run(async (ctx) => await ctx.db.delete("inbox_pauses", (await ctx.db.query("inbox_pauses").first())!._id));
    expect(await t.mutation(internal.inbox.resume.resumeHeld, { source: "events", cursor: null })).toBe(100);
    const deliveries = (await stored(t)).deliveries;
    expect(deliveries.filter((row) => row.scheduledRunId !== undefined).map((row) => row.deliveryKey)).toEqual(deliveries.slice(0, 100).map((row) => row.deliveryKey));
    expect(deliveries[100].scheduledRunId).toBeUndefined();
  });
});

describe("a slash command while Slack is paused", () => {
  test("is stored and answered that it will be carried out on resume; the resume applies it", async () => {
    const slack = new FakeSlack();
    vi.stubGlobal("fetch", slack.fetch);
    configureSlackApp();
    vi.stubEnv("SLACK_BOT_TOKEN", FAKE_SLACK_TOKEN);
    const t = newBackend();
    expect((await postSlackEvent(t, aliceMentionsBot)).status).toBe(200);
    await settle(t);
    const [session] = await slackSessionsOf(t, ALICE);
    const workOrderId = await newWorkOrder(t, session._id);
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: "running" });

    await t.mutation(internal.ingest.pause, { source: "slack" });
    expect(await postSlackForm(t, slashCommand(`cancel ${workOrderId}`))).toEqual({
      status: 200,
      body: {
        response_type: "ephemeral",
        text: "Processing of Slack requests is paused by an operator. Your command is stored, and will be carried out once it is resumed.",
      },
    });
    await settle(t);
    expect((await orderOf(t, workOrderId)).status).toBe("running");

    await t.mutation(internal.ingest.resume, { source: "slack" });
    await settle(t);
    expect((await orderOf(t, workOrderId)).status).toBe("canceled");
  });
});
