import { describe, expect, test, vi } from "vitest";
import { api } from "../../../convex/_generated/api";
import { newBackend, type Backend } from "../../helpers/backend";
import { asService } from "../../helpers/callers";
import { settle } from "../../helpers/clock";
import { BOB, clickOn, postSlackForm } from "../../helpers/senders/slack";
import { CAROL, aliceThreadWithOrder, withSlackCards } from "../../helpers/slack/interactivity";

/*
 * The messages only one person sees (chat.postEphemeral) share their
 * channel's queue with replies and card edits: neither holds the other
 * back.
 */

const { fake, cardOf } = withSlackCards();

describe("ephemeral answers in the channel's queue", () => {
  /** Moves the clock `ms` forward a step at a time, running each scheduled function when it is due (not all at the last one's time). */
  async function runFor(t: Backend, ms: number) {
    for (let step = 0; step < ms; step += 250) {
      await vi.advanceTimersByTimeAsync(250);
      await t.finishInProgressScheduledFunctions();
    }
  }

  test("a refusal goes out a second or so after the click, though a card edit in the channel waits 30 minutes for its retry; the edit still follows", async () => {
    const t = newBackend();
    const { workOrderId } = await aliceThreadWithOrder(t);
    fake.slack.answerNext({ status: 429, retryAfter: "1800" });
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: "running" });
    // The edit is refused for half an hour; the channel's runner waits for it.
    await runFor(t, 5_000);
    const edit = fake.slack.calls.at(-1)!;
    expect(edit).toMatchObject({ method: "chat.update", answer: { status: 429, retryAfter: "1800" } });

    const clickedAt = Date.now();
    await postSlackForm(t, clickOn("work_order.cancel", workOrderId, { user: CAROL }));
    await runFor(t, 3_000);
    expect(fake.slack.calls.at(-1)).toMatchObject({ method: "chat.postEphemeral", args: { user: CAROL } });
    expect(fake.slack.calls.at(-1)!.at - clickedAt).toBeLessThanOrEqual(2_000);
    expect(cardOf(workOrderId).text).toBe("Work order SSO login: submitted");

    await settle(t);
    const retried = fake.slack.calls.at(-1)!;
    expect(retried).toMatchObject({ method: "chat.update", answer: "ok" });
    expect(retried.at - edit.at).toBeGreaterThanOrEqual(30 * 60_000);
    expect(cardOf(workOrderId).text).toBe("Work order SSO login: running");
    // Slack's pace per channel: never two requests within a second.
    const gaps = fake.slack.calls.slice(1).map(({ at }, i) => at - fake.slack.calls[i].at);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1_000);
  });

  test("an ephemeral answer waiting for its own retry holds back no card edit", async () => {
    const t = newBackend();
    const { workOrderId } = await aliceThreadWithOrder(t);
    fake.slack.answerNext({ status: 429, retryAfter: "600" });
    await postSlackForm(t, clickOn("work_order.cancel", workOrderId, { user: CAROL }));
    await runFor(t, 5_000);
    expect(fake.slack.calls.at(-1)).toMatchObject({ method: "chat.postEphemeral", answer: { status: 429, retryAfter: "600" } });

    const changedAt = Date.now();
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: "running" });
    await runFor(t, 3_000);
    expect(fake.slack.calls.at(-1)).toMatchObject({ method: "chat.update", answer: "ok" });
    expect(fake.slack.calls.at(-1)!.at - changedAt).toBeLessThanOrEqual(2_000);
    expect(cardOf(workOrderId).text).toBe("Work order SSO login: running");

    await settle(t);
    expect(fake.slack.calls.at(-1)).toMatchObject({ method: "chat.postEphemeral", answer: "ok" });
    expect(fake.slack.ephemerals.map((message) => message.user)).toEqual([CAROL]);
  });

  test("sixty refused clicks by a bystander delay neither the thread's next reply nor another person's answer", async () => {
    const t = newBackend();
    const { sessionId, workOrderId } = await aliceThreadWithOrder(t);
    for (let click = 0; click < 60; click += 1) {
      await postSlackForm(t, clickOn("work_order.cancel", workOrderId, { user: CAROL }));
    }
    await runFor(t, 500);
    expect(fake.slack.ephemerals.length).toBeLessThan(60);

    const repliedAt = Date.now();
    await asService(t).mutation(api.chatMessages.append, { sessionId, role: "assistant", content: "The fix is deployed." });
    await postSlackForm(t, clickOn("work_order.retry", workOrderId, { user: BOB }));
    await runFor(t, 3_000);
    const reply = fake.slack.calls.find((call) => call.method === "chat.postMessage" && call.args.text === "The fix is deployed.");
    expect(reply!.at - repliedAt).toBeLessThanOrEqual(2_000);
    const bobsAnswer = fake.slack.calls.find((call) => call.method === "chat.postEphemeral" && call.args.user === BOB);
    expect(bobsAnswer!.at - repliedAt).toBeLessThanOrEqual(2_000);

    await settle(t);
    expect(fake.slack.ephemerals.filter((message) => message.user === CAROL)).toHaveLength(60);
  });
});
