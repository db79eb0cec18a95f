// @vitest-environment node
/**
 * The cost benchmark (`npm run bench`; reduced in `npm test`): documents and
 * bytes each operation's whole transaction reads and writes, with few and
 * with many unrelated rows in every table, beside the minimum the operation
 * must touch. An operation whose documents read grow with unrelated rows, or
 * that reads or writes more than 1.25 times its minimum, fails the run; so
 * does a burst that writes one document (counter shards and a thread's
 * session aside) in more than a few transactions. docs/performance.md holds
 * the figures.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { beforeEach, expect, test, vi } from "vitest";
import { internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { newBackend } from "../helpers/backend";
import { captureLog, loggedCosts, takeLogged } from "../helpers/bench/costLog";
import { countOf, measureOperations, MINIMUM } from "../helpers/bench/operationCosts";
import type { Cost } from "../../convex/model/platform/cost";
import { seedUnrelated } from "../helpers/bench/unrelated";
import { burstOfPushes, burstOfSlackMessages, type BurstFigure } from "../helpers/bench/bursts";
import { liveOrder, type Target } from "../helpers/orders/crowds";
import { pushOf, postGithub } from "../helpers/senders/github";
import { EVENTS_SECRET } from "../helpers/senders/events";
import { newSession } from "../helpers/records";
import { withFakeClock, settle } from "../helpers/clock";
import { SLACK_SECRET } from "../helpers/senders/slack";

const BENCH = process.env.BENCH_SIZES !== undefined;
const SIZES = (process.env.BENCH_SIZES ?? "100,2000").split(",").map(Number);
// A push larger than one transaction writes: GitHub's largest to 2 orders, to 8 with BENCH_PUSH=2048x8
// (minutes: the test backend scans the links table for every lookup). It and the bursts run in the
// bench only; npm test pins them in largeDeliveries.test.ts and hotDocuments.test.ts.
const [pushCommits, pushOrders] = (process.env.BENCH_PUSH ?? "2048x2").split("x").map(Number);
const BIG_PUSH = { commits: pushCommits, orders: pushOrders };
// The reconciler's pages among every table's unrelated rows: 2,000 stale orders in the bench, 200 in
// `npm test`, where reconcileScale.test.ts pins the same bound at 2,000 (and this took most of the file's time).
const STALE_ORDERS = Number(process.env.BENCH_STALE_ORDERS ?? (BENCH ? 2000 : 200));
const HOUR = 60 * 60 * 1000;

withFakeClock();
beforeEach(() => {
  captureLog();
  vi.stubEnv("JANGAR_LOG_COST", "1");
  vi.stubEnv("SLACK_SIGNING_SECRET", SLACK_SECRET);
  vi.stubEnv("EVENTS_WEBHOOK_SECRET", EVENTS_SECRET);
  vi.stubEnv("TEMPORAL_HTTP_URL", "");
  vi.stubEnv("GITHUB_APP_SLUG", "jangar");
});

/** The reconciler (no Temporal) over `stale` stale running orders among as many finished ones: its pages and the costliest. */
async function reconcilerPages(stale: number): Promise<{ cost: Cost; pages: number }> {
  const t = newBackend();
  // Every other seeded order is running; all were last touched a day and more ago.
  await seedUnrelated(t, 2 * stale, 25 * HOUR);
  takeLogged();
  await t.mutation(internal.reconcile.sweep, {});
  await settle(t, 1000);
  const costs = loggedCosts(/^reconcile: failed \d+ \w+ order\(s\) in one transaction (\{.*\})$/);
  const largest = costs.reduce((worst, cost) => (cost.documentsRead > worst.documentsRead ? cost : worst), costs[0]);
  return { cost: largest, pages: costs.length };
}

/** A push of `commits` commits to a branch with `orders` live orders: the transactions that applied it and the costliest. */
async function bigPush(commits: number, orders: number): Promise<{ transactions: Cost[]; links: number }> {
  const t = newBackend();
  const sessionId = await newSession(t, "alice");
  const branch: Target = { targetRepo: "acme/api", targetBranch: "release" };
  for (let i = 0; i < orders; i += 1) {
    await liveOrder(t, sessionId, branch);
  }
  takeLogged();
  const { body } = await postGithub(t, { event: "push", payload: pushOf(branch, commits) });
  await settle(t);
  const delivery = await t.run(async (ctx) => await ctx.db.get("webhook_deliveries", body.delivery as Id<"webhook_deliveries">));
  expect(delivery).toMatchObject({ status: "processed", touchedCount: commits * orders });
  const transactions = loggedCosts(/^cost delivery (\{.*\})$/);
  return { transactions, links: delivery!.touchedCount! };
}

const ratio = (measured: number, minimum: number) => (minimum === 0 ? (measured === 0 ? 1 : Infinity) : measured / minimum);

test(`every operation reads and writes within 1.25x of its minimum, and no more with ${SIZES.join(" than with ")} unrelated rows in every table`, async () => {
  const runs = [];
  for (const size of SIZES) {
    runs.push({ size, costs: await measureOperations(size) });
    vi.restoreAllMocks();
    captureLog();
  }
  const [small, large] = [runs[0], runs.at(-1)!];
  const rows = [...large.costs.keys()].map((operation) => {
    const cost = large.costs.get(operation)!;
    const minimum = MINIMUM[operation];
    const least = { reads: countOf(minimum.reads), writes: countOf(minimum.writes) };
    return {
      operation,
      cost,
      least,
      minimum,
      smallReads: small.costs.get(operation)!.documentsRead,
      readRatio: ratio(cost.documentsRead, least.reads),
      writeRatio: ratio(cost.documentsWritten, least.writes),
    };
  });
  const reconcile = await reconcilerPages(STALE_ORDERS);
  const big = BENCH ? await bigPush(BIG_PUSH.commits, BIG_PUSH.orders) : null;
  const bursts: BurstFigure[] = BENCH ? [await burstOfPushes(), await burstOfSlackMessages()] : [];

  const costliest = (key: keyof Cost) => Math.max(...big!.transactions.map((cost) => cost[key]));
  const table = [
    `Whole transactions (the delivery's own write and the inbox counters included), with ${large.size} unrelated rows in every table:`,
    "",
    "| operation | docs read | minimum | ratio | docs written | minimum | ratio | bytes read | bytes written | docs read with " + small.size + " |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map(
      ({ operation, cost, least, smallReads, readRatio, writeRatio }) =>
        `| ${operation} | ${cost.documentsRead} | ${least.reads} | ${readRatio.toFixed(2)} | ${cost.documentsWritten} | ${least.writes} | ${writeRatio.toFixed(2)} | ${cost.bytesRead} | ${cost.bytesWritten} | ${smallReads} |`,
    ),
    "",
    "Minimums, from what each operation must touch:",
    "",
    ...rows.map(({ operation, minimum }) => `- ${operation}: reads ${minimum.reads.join(", ") || "nothing"}; writes ${minimum.writes.join(", ") || "nothing"}.`),
    "",
    ...(big === null
      ? []
      : [
          `Push of ${BIG_PUSH.commits} commits to a branch with ${BIG_PUSH.orders} live orders (${big.links} links): ${big.transactions.length} transactions; the costliest read ${costliest("documentsRead")} documents and wrote ${costliest("documentsWritten")} (${costliest("bytesWritten")} bytes).`,
          "",
        ]),
    `Reconciler without Temporal, ${STALE_ORDERS} stale running orders among ${2 * STALE_ORDERS} orders: ${reconcile.pages} page transactions; the costliest read ${reconcile.cost.documentsRead} documents (${reconcile.cost.bytesRead} bytes) and wrote ${reconcile.cost.documentsWritten}.`,
    ...(bursts.length === 0
      ? []
      : [
          "",
          "Bursts: which documents the transactions write (test/helpers/bench/writeSets.ts):",
          "",
          "| burst | transactions | most transactions writing one document (counter shards and the thread's session aside) | most writing one counter shard | the thread's session |",
          "| --- | ---: | ---: | ---: | ---: |",
          ...bursts.map(
            (burst) =>
              `| ${burst.burst} | ${burst.transactions} | ${burst.hottest.writes} (${burst.hottest.document}) | ${burst.busiestShard} | ${burst.expected?.writes ?? "-"} |`,
          ),
        ]),
  ].join("\n");
  mkdirSync("build/bench", { recursive: true });
  writeFileSync("build/bench/cost.md", `${table}\n`);
  process.stdout.write(`\n${table}\n\n`);

  for (const { operation, cost, readRatio, writeRatio, smallReads } of rows) {
    expect(cost.documentsRead, `${operation}: documents read grew with unrelated rows`).toBe(smallReads);
    expect(readRatio, `${operation}: documents read against the minimum`).toBeLessThanOrEqual(1.25);
    expect(writeRatio, `${operation}: documents written against the minimum`).toBeLessThanOrEqual(1.25);
  }
  expect(reconcile.cost.documentsRead).toBeLessThanOrEqual(250);
  if (big !== null) {
    expect(big.transactions.length).toBeGreaterThan(1);
    expect(costliest("documentsWritten")).toBeLessThan(16_000 / 4);
  }
  for (const burst of bursts) {
    expect(burst.hottest.writes, burst.burst).toBeLessThanOrEqual(3);
  }
}, 1_800_000);
