// @vitest-environment node
/**
 * What launching costs in memory (`npm run bench`; one check in `npm test`):
 * a relaunch page starts ten launches at once, each holding an order's
 * launch input (up to 1 MiB of JSON) and its start request. Each run is a
 * fresh process (test/helpers/bench/launchMemory.ts) with an isolate's 64 MiB of
 * heap; the benchmark also searches for the smallest heap that fits.
 * docs/performance.md holds the figures.
 */
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";

const run = promisify(execFile);
const ISOLATE_HEAP_MB = 64;
const INPUT_BYTES = 1024 * 1024 - 1024;
// In `npm run bench`, the smallest heap is searched for; in `npm test`, ten launches at once in an isolate's heap.
const SEARCH_HEAP = process.env.BENCH_LAUNCH_SEARCH === "1";

type Measured = { started: number; bodyBytes: number; held: number };

/** Starts `launches` launches of inputs of INPUT_BYTES at once in a fresh process with this much heap; null when they do not fit. */
async function launchInProcess(launches: number, heapMb: number): Promise<Measured | null> {
  try {
    const { stdout } = await run(
      process.execPath,
      ["--expose-gc", `--max-old-space-size=${heapMb}`, "--import", "tsx", "test/helpers/bench/launchMemory.ts", String(launches), String(INPUT_BYTES)],
      { maxBuffer: 1 << 20 },
    );
    return JSON.parse(stdout.trim().split("\n").at(-1)!) as Measured;
  } catch {
    return null;
  }
}

describe("the memory launches need", () => {
  test("ten launches of 1 MiB inputs at once fit an isolate's 64 MiB heap, each holding two copies of its input: its text and its request", async () => {
    const measured = await launchInProcess(10, ISOLATE_HEAP_MB);
    expect(measured).toMatchObject({ started: 10 });
    // The text (1) and the request (its base64: 4/3), with room for what V8 keeps besides.
    expect(measured!.held).toBeLessThanOrEqual(2.45);
  }, 120_000);

  test.runIf(SEARCH_HEAP)("the smallest heaps that fit one and ten launches are written to build/bench/launch.md", async () => {
    const rows: string[] = [];
    for (const launches of [1, 10]) {
      let [fits, fails] = [ISOLATE_HEAP_MB * 2, 4];
      while (fits - fails > 1) {
        const heap = Math.floor((fits + fails) / 2);
        [fits, fails] = (await launchInProcess(launches, heap)) === null ? [fits, heap] : [heap, fails];
      }
      const { held } = (await launchInProcess(launches, fits * 2))!;
      rows.push(`| ${launches} | ${INPUT_BYTES.toLocaleString("en")} | ${fits} MB | ${held} |`);
    }
    const table = ["| launches at once | input bytes each | smallest heap | held, in copies of an input |", "| ---: | ---: | ---: | ---: |", ...rows].join("\n");
    mkdirSync("build/bench", { recursive: true });
    writeFileSync("build/bench/launch.md", `${table}\n`);
    process.stdout.write(`\n${table}\n\n`);
    expect(rows).toHaveLength(2);
  }, 600_000);
});
