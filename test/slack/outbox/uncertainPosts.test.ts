import { describe, expect, test, vi } from "vitest";
import { newBackend } from "../../helpers/backend";
import { asService } from "../../helpers/callers";
import { newWorkOrder } from "../../helpers/records";
import { OUTBOX_ITERATIONS, settle } from "../../helpers/clock";
import { TEAM } from "../../helpers/senders/slack";
import { api } from "../../../convex/_generated/api";
import { type SlackAnswer } from "../../../fakes/slack";
import { CHANNEL, reply, slackThread, withSlackOutbox } from "../../helpers/slack/outbox";
import { outboxRows } from "../../helpers/outbox/rows";

/*
 * A post whose outcome is unclear (no answer, or a 5xx after which Slack
 * may have posted it) is looked for in the thread by its marker before it
 * is posted again (docs/contract.md#slack-replies-and-work-order-cards-outbound).
 */

const fake = withSlackOutbox();

describe("posts with an unclear outcome", () => {
  test.each<[string, SlackAnswer]>([
    ["never answered", "postedThenHang"],
    ["answered 503", { status: 503, posted: true }],
  ])("a post Slack made but %s is found in the thread by its marker and not posted again", async (_what, answer) => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    fake.slack.answerNext(answer);
    const messageId = await reply(t, sessionId, "Done.");
    await settle(t, OUTBOX_ITERATIONS);
    const posts = fake.slack.thread(CHANNEL, threadTs);
    expect(posts.map((message) => message.text)).toEqual(["Done."]);
    expect(fake.slack.calls).toHaveLength(1);
    expect(fake.slack.reads).toHaveLength(1);
    expect(await outboxRows(t)).toEqual([expect.objectContaining({ status: "sent", attempts: 2, result: posts[0].ts })]);
    // Its Slack origin is recorded as for any post: the echo is not appended.
    const origin = await t.run(
      async (ctx) =>
        await ctx.db
          .query("chat_message_origins")
          .withIndex("by_externalId_sessionId", (q) => q.eq("externalId", `slack:${TEAM}:${CHANNEL}:${posts[0].ts}`))
          .unique(),
    );
    expect(origin).toMatchObject({ messageId, outbound: true });
  });

  test("a card whose post got no answer is found in the thread, then edited in place: one card", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    fake.slack.answerNext("postedThenHang");
    const workOrderId = await newWorkOrder(t, sessionId, { title: "SSO login" });
    await settle(t, OUTBOX_ITERATIONS);
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: "accepted" });
    await settle(t, OUTBOX_ITERATIONS);
    const [card] = fake.slack.thread(CHANNEL, threadTs);
    expect(fake.slack.thread(CHANNEL, threadTs)).toHaveLength(1);
    expect(card).toMatchObject({ text: "Work order SSO login: accepted", edits: 1 });
    expect(fake.slack.calls.map(({ method }) => method)).toEqual(["chat.postMessage", "chat.update"]);
  });

  test("a post Slack did not make (no answer) is looked for, not found, and posted", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    fake.slack.answerNext("hang", { status: 429, retryAfter: "3" });
    await reply(t, sessionId, "Done.");
    await settle(t, OUTBOX_ITERATIONS);
    expect(fake.slack.thread(CHANNEL, threadTs).map((message) => message.text)).toEqual(["Done."]);
    expect(fake.slack.calls.map(({ answer }) => answer)).toEqual(["hang", { status: 429, retryAfter: "3" }, "ok"]);
    expect(fake.slack.reads).toHaveLength(2);
  });

  test("a post refused with a 429 or a permanent error is not looked for: Slack did not make it", async () => {
    const t = newBackend();
    const { sessionId } = await slackThread(t);
    fake.slack.answerNext({ status: 429, retryAfter: "3" }, { error: "ratelimited" }, { error: "not_in_channel" });
    await reply(t, sessionId, "Done.");
    await settle(t, OUTBOX_ITERATIONS);
    expect(fake.slack.calls).toHaveLength(3);
    expect(fake.slack.reads).toEqual([]);
  });

  test("a thread that cannot be read (missing_scope) does not hold the post back: it is posted again, with a warning", async () => {
    const warnings: string[] = [];
    vi.spyOn(console, "warn").mockImplementation((line: unknown) => void warnings.push(String(line)));
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    fake.slack.answerNext("postedThenHang");
    fake.slack.answerNextRead({ error: "missing_scope" });
    await reply(t, sessionId, "Done.");
    await settle(t, OUTBOX_ITERATIONS);
    const [row] = await outboxRows(t);
    expect(row.status).toBe("sent");
    expect(fake.slack.thread(CHANNEL, threadTs).map((message) => message.text)).toEqual(["Done.", "Done."]);
    expect(warnings).toEqual([
      `slackOutbox: row ${row._id} may already be posted, but its thread cannot be read (missing_scope); posting it again`,
    ]);
    vi.restoreAllMocks();
  });

  test("a thread Slack is too busy to read holds the post back until it can be read", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    fake.slack.answerNext("postedThenHang");
    fake.slack.answerNextRead({ status: 429, retryAfter: "60" });
    await reply(t, sessionId, "Done.");
    await settle(t, OUTBOX_ITERATIONS);
    expect(fake.slack.thread(CHANNEL, threadTs).map((message) => message.text)).toEqual(["Done."]);
    expect(fake.slack.calls).toHaveLength(1);
    expect(fake.slack.reads.map(({ at }) => at - fake.slack.reads[0].at)).toEqual([0, 60_000]);
  });

  test("a busy thread does not hide the post: one read from the first attempt that may have made it finds it among a hundred people's messages", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    const people = (count: number) => {
      for (let i = 0; i < count; i += 1) {
        fake.slack.messages.push({ channel: CHANNEL, threadTs, ts: `${Math.floor(Date.now() / 1000)}.5${String(fake.slack.messages.length).padStart(5, "0")}`, text: `me too ${i}`, edits: 0, user: "U0DAVE" });
      }
    };
    // The reply waits two minutes (a 429) while fifty people write; its next attempt is posted and never answered; fifty more write after it.
    fake.slack.onCall = (event) => {
      if ("call" in event && (event.call.answer as { status?: number }).status === 429) {
        people(50);
      }
      if ("call" in event && event.call.method === "conversations.replies" && fake.slack.reads.length === 1) {
        people(50);
      }
    };
    fake.slack.answerNext({ status: 429, retryAfter: "120" }, "postedThenHang");
    await reply(t, sessionId, "Done.");
    await settle(t, OUTBOX_ITERATIONS);

    expect(fake.slack.thread(CHANNEL, threadTs)).toHaveLength(101);
    expect(fake.slack.thread(CHANNEL, threadTs).filter((message) => message.text === "Done.")).toHaveLength(1);
    expect(fake.slack.calls.map(({ answer }) => answer)).toEqual([{ status: 429, retryAfter: "120" }, "postedThenHang"]);
    expect(fake.slack.reads).toHaveLength(1);
    expect(await outboxRows(t)).toEqual([expect.objectContaining({ status: "sent", attempts: 3 })]);
  });

  test("a person's message carrying the post's marker does not stand for the post: the reply is posted", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    fake.slack.answerNext("hang");
    await reply(t, sessionId, "Done.");
    const [row] = await outboxRows(t);
    fake.slack.messages.push({ channel: CHANNEL, threadTs, ts: `${Math.floor(Date.now() / 1000)}.700000`, text: "Done.", metadata: { event_type: "jangar_outbox_post", event_payload: { post: row._id } }, edits: 0, user: "U0MALLORY" });
    await settle(t, OUTBOX_ITERATIONS);
    expect(fake.slack.reads).toHaveLength(1);
    expect(fake.slack.calls.map(({ answer }) => answer)).toEqual(["hang", "ok"]);
    expect(fake.slack.thread(CHANNEL, threadTs).map((message) => message.user ?? "bot")).toEqual(["U0MALLORY", "bot"]);
  });

  test("a look Slack rate-limits waits for Slack's leave and costs no attempt: six 429s later the post is found, not posted again", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    fake.slack.answerNext("postedThenHang");
    fake.slack.answerNextRead(...Array.from({ length: 6 }, () => ({ status: 429 }) as const));
    await reply(t, sessionId, "Done.");
    await settle(t, OUTBOX_ITERATIONS);
    expect(fake.slack.reads.map(({ at }) => at - fake.slack.reads[0].at)).toEqual([0, 60_000, 120_000, 180_000, 240_000, 300_000, 360_000]);
    expect(fake.slack.thread(CHANNEL, threadTs).map((message) => message.text)).toEqual(["Done."]);
    expect(fake.slack.calls).toHaveLength(1);
    expect(await outboxRows(t)).toEqual([expect.objectContaining({ status: "sent", attempts: 2 })]);
  });

});
