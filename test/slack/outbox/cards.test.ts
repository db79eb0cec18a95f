import { describe, expect, test, vi } from "vitest";
import { newBackend } from "../../helpers/backend";
import { asService } from "../../helpers/callers";
import { newSession, newWorkOrder } from "../../helpers/records";
import { OUTBOX_ITERATIONS, settle } from "../../helpers/clock";
import { TEAM } from "../../helpers/senders/slack";
import { api, internal } from "../../../convex/_generated/api";
import { type SlackMessage } from "../../../fakes/slack";
import { CHANNEL, slackThread, withSlackOutbox } from "../../helpers/slack/outbox";
import { outboxRows } from "../../helpers/outbox/rows";

/*
 * A work order's card in its session's Slack thread
 * (docs/contract.md#slack-replies-and-work-order-cards-outbound): posted
 * once, edited in place as the order moves, posted again if deleted.
 */

const fake = withSlackOutbox();

/** The one message the bot holds in a thread: the card. */
function cardIn(threadTs: string): SlackMessage {
  const messages = fake.slack.thread(CHANNEL, threadTs);
  expect(messages).toHaveLength(1);
  return messages[0];
}

describe("work-order cards", () => {
  test("a card is posted when the order is created, then edited in place through accepted, running, a pull request and succeeded", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    const workOrderId = await newWorkOrder(t, sessionId, { title: "SSO login" });
    await settle(t, OUTBOX_ITERATIONS);
    const card = cardIn(threadTs);
    expect(fake.slack.calls.map(({ method }) => method)).toEqual(["chat.postMessage"]);
    expect(card.text).toContain("SSO login");
    expect(card.text).toContain("submitted");
    expect(JSON.stringify(card.blocks)).toContain(workOrderId);

    const service = asService(t);
    const seen: string[] = [];
    for (const status of ["accepted", "running"] as const) {
      await service.mutation(api.workOrders.updateStatus, { workOrderId, status });
      await settle(t, OUTBOX_ITERATIONS);
      seen.push(cardIn(threadTs).text);
    }
    await service.mutation(api.workOrderLinks.add, { workOrderId, kind: "pr", value: "https://github.com/Acme/API/pull/12" });
    await settle(t, OUTBOX_ITERATIONS);
    seen.push(cardIn(threadTs).text);
    // A commit is not shown on the card: no edit.
    await service.mutation(api.workOrderLinks.add, { workOrderId, kind: "commit", value: "a".repeat(40) });
    await service.mutation(api.workOrders.updateStatus, { workOrderId, status: "succeeded" });
    await settle(t, OUTBOX_ITERATIONS);
    seen.push(cardIn(threadTs).text);

    expect(seen).toEqual([
      "Work order SSO login: accepted",
      "Work order SSO login: running",
      "Work order SSO login: running · PR <https://github.com/acme/api/pull/12|acme/api#12>",
      "Work order SSO login: succeeded · PR <https://github.com/acme/api/pull/12|acme/api#12>",
    ]);
    expect(fake.slack.calls.map(({ method, args }) => [method, args.ts])).toEqual([
      ["chat.postMessage", undefined],
      ...Array.from({ length: 4 }, () => ["chat.update", card.ts]),
    ]);
    expect(cardIn(threadTs).edits).toBe(4);
    expect(JSON.stringify(cardIn(threadTs).blocks)).toContain(":white_check_mark: Succeeded");
  });

  test("a pull request merged on GitHub shows on the card, with the order succeeded", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    const workOrderId = await newWorkOrder(t, sessionId, { title: "SSO login", target: { targetRepo: "acme/api", targetBranch: "feature/sso" } });
    await settle(t, OUTBOX_ITERATIONS);
    const { postGithub } = await import("../../helpers/senders/github");
    const merged = await postGithub(t, {
      event: "pull_request",
      payload: {
        action: "closed",
        repository: { full_name: "Acme/API" },
        pull_request: {
          html_url: "https://github.com/Acme/API/pull/12",
          body: `Work-Order: ${workOrderId}`,
          merged: true,
          merge_commit_sha: "b".repeat(40),
          head: { ref: "feature/sso", repo: { full_name: "Acme/API" } },
        },
      },
    });
    expect(merged.status).toBe(200);
    await settle(t, OUTBOX_ITERATIONS);
    expect(cardIn(threadTs).text).toBe("Work order SSO login: succeeded · PR <https://github.com/acme/api/pull/12|acme/api#12>");
    expect(fake.slack.calls.map(({ method }) => method)).toEqual(["chat.postMessage", "chat.update"]);
  });

  test("changes made while a card waits collapse into one request showing the latest", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    const workOrderId = await newWorkOrder(t, sessionId, { title: "SSO login" });
    const service = asService(t);
    for (const status of ["accepted", "running"] as const) {
      await service.mutation(api.workOrders.updateStatus, { workOrderId, status });
    }
    await settle(t, OUTBOX_ITERATIONS);
    expect(fake.slack.calls.map(({ method }) => method)).toEqual(["chat.postMessage"]);
    expect(cardIn(threadTs).text).toBe("Work order SSO login: running");

    await service.mutation(api.workOrderLinks.add, { workOrderId, kind: "pr", value: "https://github.com/acme/api/pull/12" });
    await service.mutation(api.workOrderLinks.add, { workOrderId, kind: "pr", value: "https://github.com/acme/api/pull/13" });
    await service.mutation(api.workOrders.updateStatus, { workOrderId, status: "failed" });
    await settle(t, OUTBOX_ITERATIONS);
    expect(fake.slack.calls.map(({ method }) => method)).toEqual(["chat.postMessage", "chat.update"]);
    expect(cardIn(threadTs).text).toBe(
      "Work order SSO login: failed · PR <https://github.com/acme/api/pull/12|acme/api#12> · PR <https://github.com/acme/api/pull/13|acme/api#13>",
    );
  });

  test("an edit made while the card's post is being retried waits for its ts: the card is posted once", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    fake.slack.answerNext({ status: 503 });
    const workOrderId = await newWorkOrder(t, sessionId, { title: "SSO login" });
    // Runs the post, which Slack answers 503, and records it for a retry.
    await t.finishInProgressScheduledFunctions();
    await vi.advanceTimersByTimeAsync(0);
    await t.finishInProgressScheduledFunctions();
    expect(fake.slack.calls).toHaveLength(1);
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: "accepted" });
    await settle(t, OUTBOX_ITERATIONS);

    expect(fake.slack.calls.map(({ method, answer }) => [method, answer])).toEqual([
      ["chat.postMessage", { status: 503 }],
      ["chat.postMessage", "ok"],
    ]);
    expect(cardIn(threadTs).text).toBe("Work order SSO login: accepted");
  });

  test("an order created before its session was bound to a thread gets its card at its first change", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const workOrderId = await newWorkOrder(t, sessionId, { title: "SSO login" });
    await settle(t, OUTBOX_ITERATIONS);
    expect(fake.slack.calls).toEqual([]);
    await t.run(async (ctx) => {
      await ctx.db.insert("slack_threads", { team: TEAM, channel: CHANNEL, threadTs: "1747213923.482109", sessionId });
    });
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: "accepted" });
    await settle(t, OUTBOX_ITERATIONS);
    expect(cardIn("1747213923.482109").text).toBe("Work order SSO login: accepted");
  });

  test("a card deleted in Slack is posted again at its order's next change, and later changes edit the new post", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    const workOrderId = await newWorkOrder(t, sessionId, { title: "SSO login" });
    await settle(t, OUTBOX_ITERATIONS);
    const deleted = cardIn(threadTs);
    fake.slack.messages.splice(fake.slack.messages.indexOf(deleted), 1);

    const service = asService(t);
    await service.mutation(api.workOrders.updateStatus, { workOrderId, status: "accepted" });
    await settle(t, OUTBOX_ITERATIONS);
    const reposted = cardIn(threadTs);
    expect(reposted.text).toBe("Work order SSO login: accepted");
    await service.mutation(api.workOrders.updateStatus, { workOrderId, status: "running" });
    await settle(t, OUTBOX_ITERATIONS);

    expect(cardIn(threadTs)).toMatchObject({ ts: reposted.ts, text: "Work order SSO login: running", edits: 1 });
    expect(fake.slack.calls.map(({ method, args }) => [method, args.ts])).toEqual([
      ["chat.postMessage", undefined],
      ["chat.update", deleted.ts],
      ["chat.postMessage", undefined],
      ["chat.update", reposted.ts],
    ]);
    expect((await outboxRows(t)).map((row) => row.status)).toEqual(["sent", "sent", "sent"]);
  });

  test("a card edit left failed with message_not_found is posted again when an operator replays it", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    const workOrderId = await newWorkOrder(t, sessionId, { title: "SSO login" });
    await settle(t, OUTBOX_ITERATIONS);
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: "accepted" });
    await settle(t, OUTBOX_ITERATIONS);
    const deleted = cardIn(threadTs);
    fake.slack.messages.splice(fake.slack.messages.indexOf(deleted), 1);
    // The edit as an earlier version left it: failed, the card still holding the deleted post's ts.
    const edit = (await outboxRows(t)).find((row) => row.method === "chat.update")!;
    await t.run(async (ctx) => await ctx.db.patch("outbox", edit._id, { status: "failed", error: "message_not_found", httpStatus: 200 }));

    expect(await t.mutation(internal.outbox.replay, { rowId: edit._id })).toEqual({ rowId: edit._id, previousError: "message_not_found" });
    await settle(t, OUTBOX_ITERATIONS);
    expect(cardIn(threadTs)).toMatchObject({ text: "Work order SSO login: accepted", edits: 0 });
    expect(fake.slack.calls.slice(2).map(({ method }) => method)).toEqual(["chat.update", "chat.postMessage"]);
    expect(await t.run(async (ctx) => (await ctx.db.get("outbox", edit._id))?.status)).toBe("sent");
  });
});
