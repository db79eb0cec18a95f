import { mkdirSync, writeFileSync } from "node:fs";
import { beforeEach, expect, vi } from "vitest";
import type { Cost } from "../../../convex/model/platform/cost";
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
 *   // [["reply (chatMessages:append)", {...}], ["  sending: claim reply", {...}], ["  sending: record reply", {...}, []]]
 *   reportFlat([{ size: 1000, costs }, { size: 50000, costs: more }], { file: "slack-cost.md", bytes: "bytesRead" });
 */

/** A step's name and cost; a record step also carries the `request ...` lines logged since the last record step. */
export type StepCost = [step: string, cost: Cost, requests?: string[]];

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
 * function's or the delivery's as `name`, the destination's sending steps as
 * `  sending: <step>`; each record step with the requests (lines logged as
 * `request ...`, e.g. by a fake's `onCall`) its claim led to.
 */
export function outboxCosts(destination: string) {
  let logged: string[] = [];
  beforeEach(() => {
    logged = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => void logged.push(String(line)));
    vi.stubEnv("JANGAR_LOG_COST", "1");
  });
  const stepLine = new RegExp(`^${destination}Outbox: (\\w+ \\w+) cost (\\{.*\\})$`);
  return async function costsOf(t: Backend, name: string, work: () => Promise<unknown>): Promise<StepCost[]> {
    logged = [];
    await work();
    await settle(t, 1000);
    let requests: string[] = [];
    return logged.flatMap((line): StepCost[] => {
      const call = /^cost (?:delivery )?(\{.*\})$/.exec(line);
      const step = stepLine.exec(line);
      const request = /^request (.*)$/.exec(line);
      if (request) requests.push(request[1]);
      if (call) return [[name, JSON.parse(call[1]) as Cost]];
      if (!step) return [];
      if (!step[1].startsWith("record")) return [[`  sending: ${step[1]}`, JSON.parse(step[2]) as Cost]];
      const sent = requests;
      requests = [];
      return [[`  sending: ${step[1]}`, JSON.parse(step[2]) as Cost, sent]];
    });
  };
}

/**
 * The steps' costs with few and with many unrelated rows, as a table
 * (printed, and written to build/bench/<file> for docs/performance.md), with
 * the requests each step made as a last column when `requests` names it;
 * fails unless the same steps read and write as many documents with many.
 */
export function reportFlat(
  runs: { size: number; costs: StepCost[] }[],
  { file, bytes, requests }: { file: string; bytes: "bytesRead" | "bytesWritten"; requests?: string },
) {
  const [small, large] = [runs[0], runs.at(-1)!];
  const label = bytes === "bytesRead" ? "bytes read" : "bytes written";
  const extra = (cells: string) => (requests === undefined ? "" : ` ${cells} |`);
  const table = [
    `| step | docs read (${small.size}) | docs written | ${label} | docs read (${large.size}) | docs written | ${label} |${extra(requests ?? "")}`,
    `| --- | ---: | ---: | ---: | ---: | ---: | ---: |${extra("---")}`,
    ...small.costs.map(([step, a, sent], i) => {
      const b = large.costs[i][1];
      return `| ${step} | ${a.documentsRead} | ${a.documentsWritten} | ${a[bytes]} | ${b.documentsRead} | ${b.documentsWritten} | ${b[bytes]} |${extra((sent ?? []).join(", "))}`;
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
