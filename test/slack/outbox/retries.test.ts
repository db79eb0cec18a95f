import { describe, expect, test, vi } from "vitest";
import { newBackend } from "../../helpers/backend";
import { asService } from "../../helpers/callers";
import { expectConvexError } from "../../helpers/assertions";
import { newWorkOrder } from "../../helpers/records";
import { OUTBOX_ITERATIONS, settle } from "../../helpers/clock";
import { TEAM } from "../../helpers/senders/slack";
import { api, internal } from "../../../convex/_generated/api";
import { CHANNEL, reply, slackThread, waitAfter, withSlackOutbox } from "../../helpers/slack/outbox";
import { outboxRows, outboxCounts } from "../../helpers/outbox/rows";

/*
 * The Slack outbox when Slack fails (docs/contract.md#slack-replies-and-work-order-cards-outbound):
 * retries with backoff or after Slack's Retry-After, a channel's order
 * kept, a permanent error failing its row alone, an operator's replay.
 */

const fake = withSlackOutbox();

describe("when Slack fails", () => {
  test("a network error, a 5xx and a 429 are retried with backoff, the 429 after Slack's Retry-After", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    fake.slack.answerNext("network", { status: 502 }, { status: 429, retryAfter: "7" }, { error: "ratelimited" });
    await reply(t, sessionId, "Done.");
    await settle(t, OUTBOX_ITERATIONS);

    expect(fake.slack.calls.map(({ answer }) => answer)).toEqual(["network", { status: 502 }, { status: 429, retryAfter: "7" }, { error: "ratelimited" }, "ok"]);
    const gaps = fake.slack.calls.slice(1).map(({ at }, i) => at - fake.slack.calls[i].at);
    // Backoff after the first, second and fourth attempts; Slack's Retry-After (7 s) after the third.
    for (const [i, attemptsMade] of [[0, 1], [1, 2], [3, 4]]) {
      expect(gaps[i]).toBeGreaterThanOrEqual(waitAfter(attemptsMade).minMs);
      expect(gaps[i]).toBeLessThanOrEqual(waitAfter(attemptsMade).maxMs);
    }
    expect(waitAfter(4).minMs).toBeGreaterThan(waitAfter(1).maxMs);
    expect(gaps[2]).toBe(7_000);
    expect(fake.slack.thread(CHANNEL, threadTs).map((message) => message.text)).toEqual(["Done."]);
    // After the network error Slack may have posted it: each later attempt looks for it first.
    expect(fake.slack.reads.map(({ method }) => method)).toEqual(Array.from({ length: 4 }, () => "conversations.replies"));
    const [row] = await outboxRows(t);
    expect(row).toMatchObject({ status: "sent", attempts: 5 });
    expect(row.error).toBeUndefined();
  });

  test("a request Slack never answers is abandoned after 10 seconds and retried", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    fake.slack.answerNext("hang");
    await reply(t, sessionId, "Done.");
    await settle(t, OUTBOX_ITERATIONS);
    expect(fake.slack.calls.map(({ answer }) => answer)).toEqual(["hang", "ok"]);
    expect(fake.slack.calls[1].at - fake.slack.calls[0].at - 10_000).toBeGreaterThanOrEqual(waitAfter(1).minMs);
    expect(fake.slack.calls[1].at - fake.slack.calls[0].at - 10_000).toBeLessThanOrEqual(waitAfter(1).maxMs);
    expect(fake.slack.thread(CHANNEL, threadTs)).toHaveLength(1);
  });

  test("a row waiting for its retry keeps a bounded error, however long the network's", async () => {
    const t = newBackend();
    const { sessionId } = await slackThread(t);
    let failures = 1;
    vi.stubGlobal("fetch", async (input: RequestInfo | URL, init?: RequestInit) => {
      if (failures-- > 0) {
        throw new TypeError(`fetch failed: ${"connection reset ".repeat(500)}`);
      }
      return await fake.slack.fetch(input, init);
    });
    await reply(t, sessionId, "Done.");
    await t.finishInProgressScheduledFunctions();
    await vi.advanceTimersByTimeAsync(0);
    await t.finishInProgressScheduledFunctions();
    const [row] = await outboxRows(t);
    expect(row.status).toBe("queued");
    expect(row.error).toMatch(/^Slack is unreachable: fetch failed: connection reset .*…$/);
    expect(row.error!.length).toBeLessThanOrEqual(2000);
  });

  test("a retried post holds its channel back, so later posts still go out after it", async () => {
    const t = newBackend();
    const { sessionId } = await slackThread(t);
    fake.slack.answerNext({ status: 429, retryAfter: "30" });
    await reply(t, sessionId, "first");
    await reply(t, sessionId, "second");
    await settle(t, OUTBOX_ITERATIONS);
    expect(fake.slack.calls.map(({ args, answer }) => [args.text, answer])).toEqual([
      ["first", { status: 429, retryAfter: "30" }],
      ["first", "ok"],
      ["second", "ok"],
    ]);
  });

  test("a permanent Slack error ends that row failed and blocks nothing else", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    const elsewhere = await slackThread(t, "C0ARCHIVED");
    fake.slack.refusedChannels.set("C0ARCHIVED", "is_archived");
    fake.slack.answerNext({ error: "msg_too_long" });
    await reply(t, sessionId, "first");
    await reply(t, elsewhere.sessionId, "lost");
    await reply(t, sessionId, "second");
    const workOrderId = await newWorkOrder(t, sessionId, { title: "SSO login" });
    await settle(t, OUTBOX_ITERATIONS);

    expect(fake.slack.thread(CHANNEL, threadTs).map((message) => message.text)).toEqual(["second", "Work order SSO login: submitted"]);
    expect(await outboxCounts(t, "slack")).toEqual({ queued: 0, sending: 0, sent: 2, failed: 2 });
    const status = await t.query(internal.outbox.status, {});
    expect(status.recentFailures.map(({ lane, error, attempts }) => ({ lane, error, attempts })).sort((a, b) => a.lane.localeCompare(b.lane))).toEqual([
      { lane: `${TEAM}:${CHANNEL}`, error: "msg_too_long", attempts: 1 },
      { lane: `${TEAM}:C0ARCHIVED`, error: "is_archived", attempts: 1 },
    ]);
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: "accepted" });
    await settle(t, OUTBOX_ITERATIONS);
    expect(fake.slack.thread(CHANNEL, threadTs).map((message) => message.text)).toEqual(["second", "Work order SSO login: accepted"]);
  });

  test("after its last attempt a row is failed with its error; an operator's replay sends it", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    fake.slack.answerNext(...Array.from({ length: 6 }, () => ({ status: 503 }) as const));
    await reply(t, sessionId, "Done.");
    await settle(t, OUTBOX_ITERATIONS);
    expect(fake.slack.calls).toHaveLength(6);
    const [row] = await outboxRows(t);
    expect(row).toMatchObject({ status: "failed", attempts: 6, error: "Slack answered HTTP 503. (gave up after 6 attempts)" });
    const inbox = await t.query(internal.ingest.inboxStatus, {});
    expect(inbox.outbound.filter(({ destination }) => destination === "slack")).toEqual([
      { destination: "slack", status: "queued", count: 0 },
      { destination: "slack", status: "sending", count: 0 },
      { destination: "slack", status: "sent", count: 0 },
      { destination: "slack", status: "failed", count: 1 },
    ]);

    expect(await t.mutation(internal.outbox.replay, { rowId: row._id })).toEqual({ rowId: row._id, previousError: row.error });
    await settle(t, OUTBOX_ITERATIONS);
    expect(fake.slack.thread(CHANNEL, threadTs).map((message) => message.text)).toEqual(["Done."]);
    expect(await outboxCounts(t, "slack")).toEqual({ queued: 0, sending: 0, sent: 1, failed: 0 });
    await expectConvexError(t.mutation(internal.outbox.replay, { rowId: row._id }), "INVALID_ARGUMENT");
  });

});
