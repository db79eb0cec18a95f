// @vitest-environment node
/**
 * What posting to Slack costs (`npm run bench`; reduced in `npm test`):
 * documents read and written by the transaction that queues a reply or a
 * card update, and by the outbox's claim and record steps that send it,
 * with few and with many unrelated rows (other sessions, threads, orders,
 * cards, and sent rows in the same channel). docs/performance.md holds the figures.
 */
import { afterEach, beforeEach, expect, test, vi } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { FAKE_SLACK_TOKEN, FakeSlack } from "../../fakes/slack";
import { newBackend, type Backend } from "../helpers/backend";
import { otherOrder } from "../helpers/bench/unrelated";
import { asService } from "../helpers/callers";
import { ALICE, BOT_USER, configureSlackApp, postSlackEvent, slackSessionsOf, TEAM } from "../helpers/senders/slack";
import { settle, withFakeClock } from "../helpers/clock";
import { outboxCosts, reportFlat, seedRows, type StepCost } from "../helpers/bench/outboxCost";

const SIZES = (process.env.BENCH_SIZES ?? "100,2000").split(",").map(Number);
const CHANNEL = "C0AB1";

let slack: FakeSlack;

withFakeClock();
const costsOf = outboxCosts("slack");
beforeEach(() => {
  slack = new FakeSlack();
  vi.stubGlobal("fetch", slack.fetch);
  configureSlackApp();
  vi.stubEnv("SLACK_BOT_TOKEN", FAKE_SLACK_TOKEN);
});
afterEach(() => {
  expect(slack.violations).toEqual([]);
});

/** `count` unrelated rows: other sessions bound to other threads, their orders with cards and PR links, and sent posts in the same channel. */
async function seedUnrelated(t: Backend, count: number) {
  await seedRows(t, "slack", count, async (ctx, i, now) => {
    const sessionId = await ctx.db.insert("chat_sessions", { userId: `other-${i}`, title: `Other ${i}`, createdAt: now, updatedAt: now });
    const messageId = await ctx.db.insert("chat_messages", { sessionId, role: "assistant", content: `reply ${i}`, createdAt: now });
    const channel = i % 2 === 0 ? CHANNEL : `C0OTHER${i % 50}`;
    const threadTs = `1700000000.${String(i).padStart(6, "0")}`;
    await ctx.db.insert("slack_threads", { team: TEAM, channel, threadTs, sessionId });
    const workOrderId = await ctx.db.insert("work_orders", otherOrder(sessionId, `other-${i}`, i, now));
    await ctx.db.insert("work_order_links", { workOrderId, kind: "pr", value: `https://github.com/acme/other/pull/${i + 1}` });
    await ctx.db.insert("slack_cards", { workOrderId, team: TEAM, channel, threadTs, ts: `1700000001.${String(i).padStart(6, "0")}` });
    const ts = `1700000002.${String(i).padStart(6, "0")}`;
    await ctx.db.insert("outbox", {
      destination: "slack",
      lane: `${TEAM}:${channel}`,
      ordered: true,
      enqueuedAt: now,
      request: { kind: "reply", thread: { team: TEAM, channel, threadTs }, messageId, part: 1, parts: 1, text: `reply ${i}` },
      status: i % 10 === 0 ? "failed" : "sent",
      attempts: 1,
      method: "chat.postMessage",
      result: ts,
      finishedAt: now,
    });
    await ctx.db.insert("chat_message_origins", { externalId: `slack:${TEAM}:${channel}:${ts}`, messageId });
  });
}

async function measure(unrelated: number): Promise<StepCost[]> {
  const t = newBackend();
  await seedUnrelated(t, unrelated);
  const now = Math.floor(Date.now() / 1000);
  await postSlackEvent(t, {
    type: "event_callback",
    team_id: TEAM,
    event_id: "Ev0BENCH",
    event_time: now,
    event: { type: "app_mention", user: ALICE, text: `<@${BOT_USER}> fix SSO`, ts: `${now}.000100`, channel: CHANNEL },
  });
  await settle(t);
  const [session] = await slackSessionsOf(t, ALICE);
  const service = asService(t);
  let workOrderId: Id<"work_orders"> | undefined;
  const costs = [
    ...(await costsOf(t, "reply (chatMessages:append, assistant)", () =>
      service.mutation(api.chatMessages.append, { sessionId: session._id, role: "assistant", content: "Looking at build 4812." }),
    )),
    ...(await costsOf(t, "card posted (workOrders:create)", async () => {
      workOrderId = await service.mutation(api.workOrders.create, { sessionId: session._id, workflowType: "codex-implement", prompt: "Fix SSO", title: "SSO" });
    })),
    ...(await costsOf(t, "card update (workOrders:updateStatus)", () => service.mutation(api.workOrders.updateStatus, { workOrderId: workOrderId!, status: "accepted" }))),
    ...(await costsOf(t, "card update (workOrderLinks:add pr)", () =>
      service.mutation(api.workOrderLinks.add, { workOrderId: workOrderId!, kind: "pr", value: "https://github.com/acme/api/pull/12" }),
    )),
  ];
  expect(slack.calls.slice(-4).map(({ method }) => method)).toEqual(["chat.postMessage", "chat.postMessage", "chat.update", "chat.update"]);
  return costs;
}

test(`posting a reply or a card reads as many documents with ${SIZES.join(" as with ")} unrelated rows`, async () => {
  const runs = [];
  for (const size of SIZES) {
    runs.push({ size, costs: await measure(size) });
  }
  reportFlat(runs, { file: "slack-cost.md", bytes: "bytesRead" });
}, 600_000);
