import { describe, expect, test, vi } from "vitest";
import { api } from "../../convex/_generated/api";
import { FAKE_SLACK_TOKEN, FakeSlack } from "../../fakes/slack";
import { newBackend } from "../helpers/backend";
import { burstOfPushes, burstOfSlackMessages } from "../helpers/bench/bursts";
import { asService } from "../helpers/callers";
import { liveOrder } from "../helpers/orders/crowds";
import { pushOf, sha, postGithub } from "../helpers/senders/github";
import { newSession } from "../helpers/records";
import { withFakeClock, settle } from "../helpers/clock";
import { TEAM } from "../helpers/senders/slack";
import { recordWriteSets } from "../helpers/bench/writeSets";

withFakeClock();

const SECOND = 1000;

describe("an order's updatedAt", () => {
  test("moves with every status change, and with links, args and targets at most once a minute", async () => {
    const t = newBackend();
    const service = asService(t);
    const sessionId = await newSession(t, "alice");
    const target = { targetRepo: "acme/api", targetBranch: "feature/sso" };
    const workOrderId = await liveOrder(t, sessionId, target);
    const updatedAt = async () => (await service.query(api.workOrders.get, { workOrderId }))!.updatedAt;
    const start = await updatedAt();

    vi.advanceTimersByTime(10 * SECOND);
    await service.mutation(api.workOrderLinks.add, { workOrderId, kind: "pr", value: "https://github.com/acme/api/pull/1" });
    await service.mutation(api.workOrderArgs.upsert, { workOrderId, name: "model", value: "gpt-5" });
    await service.mutation(api.workOrderTargets.upsert, { workOrderId, targetRepo: "acme/api", targetBranch: "feature/sso-2" });
    await service.mutation(api.workOrderTargets.upsert, { workOrderId, ...target });
    await postGithub(t, { event: "push", payload: pushOf(target, 3) });
    await settle(t);
    expect(await updatedAt()).toBe(start);

    vi.advanceTimersByTime(55 * SECOND);
    await service.mutation(api.workOrderLinks.add, { workOrderId, kind: "commit", value: sha(99) });
    const aMinuteLater = await updatedAt();
    expect(aMinuteLater).toBe(start + 65 * SECOND);

    vi.advanceTimersByTime(SECOND);
    await service.mutation(api.workOrderArgs.upsert, { workOrderId, name: "model", value: "gpt-5.1" });
    expect(await updatedAt()).toBe(aMinuteLater);
    await service.mutation(api.workOrders.updateStatus, { workOrderId, status: "succeeded" });
    expect(await updatedAt()).toBe(start + 66 * SECOND);
  });
});

describe("bursts: no document but counter shards (and a thread's session) is written by more than a few transactions", () => {
  test("50 pushes to one branch write each order at most once a minute", async () => {
    const figure = await burstOfPushes();
    expect(figure.transactions).toBe(100);
    // 150 seconds of pushes: the orders' updatedAt moves twice; each delivery row is written on receipt and when processed.
    expect(figure.hottest.writes).toBeLessThanOrEqual(3);
  });

  test("50 messages in one Slack thread write its session each time, and nothing else more than twice", async () => {
    const figure = await burstOfSlackMessages();
    expect(figure.transactions).toBe(100);
    expect(figure.expected).toEqual({ document: "chat_sessions", writes: 50 });
    expect(figure.hottest.writes).toBeLessThanOrEqual(2);
  });
});

/** A uniform random number generator from a seed (mulberry32): the burst below is the same on every run. */
function seeded(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

describe("the outbox's counters", () => {
  test("10 Slack channels posting at once: no counter shard is written by every transaction of a channel's runner, nor by most channels", async () => {
    vi.spyOn(Math, "random").mockImplementation(seeded(19));
    const slack = new FakeSlack();
    vi.stubGlobal("fetch", slack.fetch);
    vi.stubEnv("SLACK_BOT_TOKEN", FAKE_SLACK_TOKEN);
    const t = newBackend();
    const sessions = await t.run(async (ctx) => {
      const ids = [];
      for (let i = 0; i < 10; i += 1) {
        const sessionId = await ctx.db.insert("chat_sessions", { userId: `slack:${TEAM}:U0${i}`, title: "SSO", createdAt: Date.now(), updatedAt: Date.now() });
        await ctx.db.insert("slack_threads", { team: TEAM, channel: `C0CHANNEL${i}`, threadTs: `1747213923.00000${i}`, sessionId });
        ids.push(sessionId);
      }
      return ids;
    });
    const writeSets = await recordWriteSets(async () => {
      for (let reply = 1; reply <= 4; reply += 1) {
        for (const sessionId of sessions) {
          await asService(t).mutation(api.chatMessages.append, { sessionId, role: "assistant", content: `step ${reply}` });
        }
      }
      await settle(t);
    });
    expect(slack.calls).toHaveLength(40);

    // Each transaction belongs to the channel whose outbox row it wrote; the counter shards it wrote.
    const laneOfRow = new Map((await t.run(async (ctx) => await ctx.db.query("outbox").collect())).map((row) => [`outbox:${row._id}`, row.lane]));
    const writesByLane = new Map<string, { transactions: number; shards: Map<string, number> }>();
    const lanesByShard = new Map<string, Set<string>>();
    for (const writeSet of writeSets) {
      const lane = [...writeSet].map((document) => laneOfRow.get(document)).find((found) => found !== undefined);
      const shards = [...writeSet].filter((document) => document.startsWith("outbox_tallies:"));
      if (lane === undefined || shards.length === 0) {
        continue;
      }
      const seen = writesByLane.get(lane) ?? { transactions: 0, shards: new Map<string, number>() };
      seen.transactions += 1;
      for (const shard of shards) {
        seen.shards.set(shard, (seen.shards.get(shard) ?? 0) + 1);
        lanesByShard.set(shard, (lanesByShard.get(shard) ?? new Set()).add(lane));
      }
      writesByLane.set(lane, seen);
    }
    expect(writesByLane.size).toBe(10);
    for (const [lane, { transactions, shards }] of writesByLane) {
      // Four posts: four rows queued, claimed and recorded.
      expect(transactions, lane).toBe(12);
      expect(Math.max(...shards.values()), `the busiest shard of ${lane}`).toBeLessThanOrEqual(transactions / 2);
    }
    expect(Math.max(...[...lanesByShard.values()].map((lanes) => lanes.size)), "channels writing one shard").toBeLessThanOrEqual(5);
  });
});
