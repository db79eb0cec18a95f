import { vi } from "vitest";
import { newBackend } from "../backend";
import { liveOrder, type Target } from "../orders/crowds";
import { postGithub, pushOf } from "../senders/github";
import { newSession } from "../records";
import { ALICE, configureSlackApp, postSlack, TEAM } from "../senders/slack";
import { recordWriteSets, writesPerDocument } from "./writeSets";
import { settle } from "../clock";

/** Bursts of deliveries, and which documents their transactions write (test/helpers/bench/writeSets.ts). */

// Counters spread over shards so that concurrent writers rarely meet: each shard is written often, by design.
const SHARDED_COUNTERS = ["delivery_tallies", "work_order_link_counts"];

export type BurstFigure = {
  burst: string;
  /** Transactions that wrote anything: receiving and processing each delivery. */
  transactions: number;
  /** The document written by the most transactions, counter shards and `expected` aside. */
  hottest: { document: string; writes: number };
  /** The most transactions that wrote one counter shard. */
  busiestShard: number;
  /** Writes of the one document the burst is expected to write every time (a thread's session), if any. */
  expected?: { document: string; writes: number };
};

function figure(burst: string, writeSets: Set<string>[], expected?: string): BurstFigure {
  const counts = writesPerDocument(writeSets);
  const isShard = ([document]: [string, number]) => SHARDED_COUNTERS.includes(document.split(":")[0]);
  const [document, writes] = counts.find((entry) => !isShard(entry) && entry[0] !== expected) ?? ["none", 0];
  return {
    burst,
    transactions: writeSets.length,
    hottest: { document: document.split(":")[0], writes },
    busiestShard: counts.find(isShard)?.[1] ?? 0,
    ...(expected === undefined ? {} : { expected: { document: expected.split(":")[0], writes: counts.find((entry) => entry[0] === expected)?.[1] ?? 0 } }),
  };
}

const MAIN: Target = { targetRepo: "acme/api", targetBranch: "main" };

/** 50 pushes of two commits to a branch with two live orders, 3 seconds apart. */
export async function burstOfPushes(): Promise<BurstFigure> {
  const t = newBackend();
  const sessionId = await newSession(t, "alice");
  await liveOrder(t, sessionId, MAIN);
  await liveOrder(t, sessionId, MAIN);
  const writeSets = await recordWriteSets(async () => {
    for (let i = 0; i < 50; i += 1) {
      await postGithub(t, { event: "push", payload: pushOf(MAIN, 2, 1 + 2 * i) });
      await settle(t);
      vi.advanceTimersByTime(3_000);
    }
  });
  return figure("50 pushes to one branch (2 orders)", writeSets);
}

/** 50 messages in one bound Slack thread, 3 seconds apart. */
export async function burstOfSlackMessages(): Promise<BurstFigure> {
  configureSlackApp();
  const t = newBackend();
  const start = Math.floor(Date.now() / 1000);
  const threadTs = `${start}.000100`;
  const slack = (eventId: string, event: Record<string, unknown>) =>
    postSlack(t, { payload: { type: "event_callback", team_id: TEAM, event_id: eventId, event_time: start, event: { channel: "C0AB1", ...event } } });
  await slack("Ev0MENTION", { type: "app_mention", user: ALICE, text: "<@U0JANGAR> fix SSO", ts: threadTs });
  await settle(t);
  const sessionId = await t.run(async (ctx) => (await ctx.db.query("slack_threads").first())!.sessionId);
  const writeSets = await recordWriteSets(async () => {
    for (let i = 0; i < 50; i += 1) {
      await slack(`Ev0REPLY${i}`, { type: "message", user: ALICE, text: `reply ${i}`, ts: `${start}.${String(200 + i).padStart(6, "0")}`, thread_ts: threadTs });
      await settle(t);
      vi.advanceTimersByTime(3_000);
    }
  });
  return figure("50 Slack messages in one thread", writeSets, `chat_sessions:${sessionId}`);
}
