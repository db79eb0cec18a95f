import { beforeEach, expect, test, vi } from "vitest";
import { internal } from "../../convex/_generated/api";
import { newBackend, type Backend } from "../helpers/backend";
import { newSession } from "../helpers/records";
import { settle, withFakeClock } from "../helpers/clock";

const HOUR = 60 * 60 * 1000;
// The test backend reads the whole store for every index query, and failing an order makes two
// (its live index rows): 2,000 stale among 4,000 keep this to seconds (production's indexes do not scan).
const STALE = Number(process.env.BENCH_STALE_ORDERS ?? 2000);
const stale = STALE.toLocaleString("en-US");

withFakeClock();
beforeEach(() => {
  vi.stubEnv("TEMPORAL_HTTP_URL", "");
});

/** `count` running orders last touched `ageMs` ago, written in transactions of 2,000. */
async function runningOrders(t: Backend, count: number, ageMs: number) {
  const sessionId = await newSession(t, "load");
  for (let start = 0; start < count; start += 2000) {
    await t.run(async (ctx) => {
      const at = Date.now() - ageMs;
      for (let i = start; i < Math.min(count, start + 2000); i += 1) {
        await ctx.db.insert("work_orders", {
          sessionId,
          workflowType: "codex-implement",
          prompt: `Task ${i}`,
          title: `Task ${i}`,
          status: "running",
          requestedBy: "load",
          createdAt: at,
          updatedAt: at,
        });
      }
    });
  }
}

async function countByStatus(t: Backend, status: "running" | "failed") {
  return await t.run(async (ctx) => {
    let count = 0;
    for await (const order of ctx.db.query("work_orders").withIndex("by_status_updatedAt", (q) => q.eq("status", status))) {
      count += order ? 1 : 0;
    }
    return count;
  });
}

test(`${stale} stale running orders among ${stale} fresh ones are all failed in bounded transactions`, async () => {
  const t = newBackend();
  await runningOrders(t, STALE, 25 * HOUR);
  await runningOrders(t, STALE, 0);

  const pages: { count: number; documentsRead: number }[] = [];
  vi.spyOn(console, "log").mockImplementation((line: unknown) => {
    const match = /^reconcile: failed (\d+) \w+ order\(s\) in one transaction (\{.*\})$/.exec(String(line));
    if (match) pages.push({ count: Number(match[1]), documentsRead: (JSON.parse(match[2]) as { documentsRead: number }).documentsRead });
  });
  await t.mutation(internal.reconcile.sweep, {});
  await settle(t, 1000);

  expect(await countByStatus(t, "failed")).toBe(STALE);
  expect(await countByStatus(t, "running")).toBe(STALE);
  const transactions = pages.length + 1;
  const largestRead = Math.max(...pages.map((page) => page.documentsRead));
  console.info(
    `reconciler at scale: ${transactions} transactions (the cron's and ${pages.length} pages) failed ${stale} stale orders among ${(2 * STALE).toLocaleString("en-US")}; the largest read ${largestRead} documents`,
  );
  expect(pages.reduce((sum, page) => sum + page.count, 0)).toBe(STALE);
  // Convex allows 32,000 documents read per transaction: stay far below it.
  expect(largestRead).toBeLessThanOrEqual(250);
}, 300_000);
