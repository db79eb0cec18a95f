import { mkdirSync, writeFileSync } from "node:fs";
import { beforeEach, expect, vi } from "vitest";
import { OUTBOX_TALLY_SHARDS } from "../../../convex/outbox/rows";
import type { Backend } from "../backend";
import { settle } from "../clock";

/**
 * What a change and the outbox requests it queues cost, as the
 * transactions log it with JANGAR_LOG_COST (test/cost/slackCost.test.ts,
 * test/cost/eventsCost.test.ts):
 *
 *   const costsOf = outboxCosts("slack");            // in the file, beside withFakeClock()
 *   await seedRows(t, "slack", 1000, async (ctx, i, now) => { ... });   // unrelated rows, and every counter shard
 *   const costs = await costsOf(t, "reply (chatMessages:append)", () => service.mutation(...));
 *   // [["reply (chatMessages:append)", {...}], ["  sending: claim reply", {...}], ["  sending: record reply", {...}]]
 *   reportFlat([{ size: 1000, costs }, { size: 50000, costs: more }], { file: "slack-cost.md", bytes: "bytesRead" });
 */

export type Cost = { documentsRead: number; documentsWritten: number; bytesRead: number; bytesWritten: number };

/** Every counter shard of a destination, as on a deployment that has been sending for a while. */
export async function seedCounterShards(t: Backend, destination: string) {
  await t.run(async (ctx) => {
    for (let shard = 0; shard < OUTBOX_TALLY_SHARDS; shard += 1) {
      await ctx.db.insert("outbox_tallies", { destination, shard, queued: 0, sending: 0, sent: 0, failed: 0 });
    }
  });
}

type RunCtx = Parameters<Parameters<Backend["run"]>[0]>[0];

/** `count` unrelated rows, 500 a transaction (`row` writes the i-th one's documents), beside every counter shard of the destination. */
export async function seedRows(t: Backend, destination: string, count: number, row: (ctx: RunCtx, i: number, now: number) => Promise<void>) {
  await seedCounterShards(t, destination);
  for (let start = 0; start < count; start += 500) {
    await t.run(async (ctx) => {
      const now = Date.now();
      for (let i = start; i < Math.min(count, start + 500); i += 1) {
        await row(ctx, i, now);
      }
    });
  }
}

/**
 * Logs each transaction's cost in every test of the file, and gives
 * `costsOf`: the cost lines `work` and what it scheduled logged, the public
 * function's as `name`, the destination's sending steps as `  sending: <step>`.
 */
export function outboxCosts(destination: string) {
  let logged: string[] = [];
  beforeEach(() => {
    logged = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => void logged.push(String(line)));
    vi.stubEnv("JANGAR_LOG_COST", "1");
  });
  const stepLine = new RegExp(`^${destination}Outbox: (\\w+ \\w+) cost (\\{.*\\})$`);
  return async function costsOf(t: Backend, name: string, work: () => Promise<unknown>): Promise<[string, Cost][]> {
    logged = [];
    await work();
    await settle(t, 1000);
    return logged.flatMap((line): [string, Cost][] => {
      const call = /^cost (\{.*\})$/.exec(line);
      const step = stepLine.exec(line);
      return call ? [[name, JSON.parse(call[1]) as Cost]] : step ? [[`  sending: ${step[1]}`, JSON.parse(step[2]) as Cost]] : [];
    });
  };
}

/**
 * The steps' costs with few and with many unrelated rows, as a table
 * (printed, and written to build/bench/<file> for docs/performance.md);
 * fails unless the same steps read and write as many documents with many.
 */
export function reportFlat(runs: { size: number; costs: [string, Cost][] }[], { file, bytes }: { file: string; bytes: "bytesRead" | "bytesWritten" }) {
  const [small, large] = [runs[0], runs.at(-1)!];
  const label = bytes === "bytesRead" ? "bytes read" : "bytes written";
  const table = [
    `| step | docs read (${small.size}) | docs written | ${label} | docs read (${large.size}) | docs written | ${label} |`,
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...small.costs.map(([step, a], i) => {
      const b = large.costs[i][1];
      return `| ${step} | ${a.documentsRead} | ${a.documentsWritten} | ${a[bytes]} | ${b.documentsRead} | ${b.documentsWritten} | ${b[bytes]} |`;
    }),
  ].join("\n");
  mkdirSync("build/bench", { recursive: true });
  writeFileSync(`build/bench/${file}`, `${table}\n`);
  process.stdout.write(`\n${table}\n\n`);

  expect(large.costs.map(([step]) => step)).toEqual(small.costs.map(([step]) => step));
  for (const [i, [step, a]] of small.costs.entries()) {
    expect(large.costs[i][1].documentsRead, `${step}: documents read grew with unrelated rows`).toBe(a.documentsRead);
    expect(large.costs[i][1].documentsWritten, `${step}: documents written grew with unrelated rows`).toBe(a.documentsWritten);
  }
}
