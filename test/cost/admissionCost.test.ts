// @vitest-environment node
/**
 * What admitting a delivery costs (`npm run bench`; reduced in `npm test`):
 * - time: each source's admission against the floor, one Web Crypto
 *   HMAC-SHA256 over the body plus one UTF-8 decode and one JSON.parse of it,
 *   measured side by side in one run;
 * - memory: the smallest V8 heap in which a fresh process admits the body
 *   (reads, verifies, hashes, decodes, parses, classifies it and makes the Blob to store).
 * docs/performance.md holds the figures.
 */
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";
import { webhookSources } from "../../src/sources";
import { readVerified, verifyRequest } from "../../src/sources/admission";
import { sha256Hex } from "../../src/hmac";
import { SOURCES, type SourceName } from "../../src/sources/source";
import { BENCH_SECRETS, bufferedRequest, signedBenchDelivery, type SignedParts } from "../helpers/bench/requests";

const sizes = (variable: string, fallback: string) => (process.env[variable] ?? fallback).split(",").filter(Boolean).map(Number);
const TIME_SIZES = sizes("BENCH_ADMISSION_SIZES", "65536");
const MEMORY_SIZES = sizes("BENCH_MEMORY_SIZES", "262144");
// In `npm run bench`, the smallest heap is searched for; in `npm test`, one run with an isolate's heap checks the harness.
const SEARCH_HEAP = process.env.BENCH_MEMORY_SEARCH === "1";
const ISOLATE_HEAP_MB = 64;
const run = promisify(execFile);
const settings = { SLACK_BOT_USER_ID: "U0JANGAR" };
const utf8 = new TextDecoder();

/** The least any verifying receiver does: read the body, one HMAC-SHA256 over it, one decode, one parse. */
async function floor(source: SourceName, request: Request): Promise<void> {
  const bytes = new Uint8Array(await request.arrayBuffer());
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(BENCH_SECRETS[source]), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  await crypto.subtle.sign("HMAC", key, bytes);
  JSON.parse(utf8.decode(bytes));
}

/** Admission proper, from the request as received: content type, headers, reading the body, verification, one decode, one parse, the source's reading. */
async function admission(source: SourceName, request: Request, hash: boolean): Promise<string> {
  const context = { secret: BENCH_SECRETS[source], settings, maxBodyBytes: 32 * 1024 * 1024, receivedAt: Date.now() };
  const verified = await verifyRequest(webhookSources[source], request, context);
  if (hash) await sha256Hex(verified.body.bytes);
  return readVerified(webhookSources[source], verified, settings).event;
}

/** How long `work` takes on a fresh request (built before the clock starts). */
async function timed(parts: SignedParts, work: (request: Request) => Promise<unknown>): Promise<number> {
  const request = bufferedRequest(parts);
  const started = performance.now();
  await work(request);
  return performance.now() - started;
}

const rows: string[] = [];

describe("admission against the floor (one HMAC-SHA256, one decode, one JSON.parse)", () => {
  test.each(TIME_SIZES)("%i bytes: every source admits its body; the ratios are printed", async (size) => {
    const rounds = size > 4_000_000 ? 15 : 41;
    for (const source of SOURCES) {
      const parts = await signedBenchDelivery(source, size, Math.floor(Date.now() / 1000));
      expect(await admission(source, bufferedRequest(parts), true)).toBe(source === "github" ? "push" : source === "slack" ? "message" : "runner.log.appended");
      const times = { floor: [] as number[], admission: [] as number[], withHash: [] as number[] };
      // The first rounds warm the compiler up and are not counted.
      for (let round = -3; round < rounds; round += 1) {
        times.floor.push(await timed(parts, (request) => floor(source, request)));
        times.admission.push(await timed(parts, (request) => admission(source, request, false)));
        times.withHash.push(await timed(parts, (request) => admission(source, request, true)));
      }
      // Of many interleaved rounds, the median (what a delivery usually costs beside the same load) and the
      // least (what the work costs, with the least other load added); each against the floor's own.
      const counted = (values: number[]) => values.slice(3).sort((x, y) => x - y);
      const median = (values: number[]) => counted(values)[Math.floor(counted(values).length / 2)];
      const least = (values: number[]) => counted(values)[0];
      const [floorMs, admissionMs, withHashMs] = [median(times.floor), median(times.admission), median(times.withHash)];
      const leastRatio = least(times.admission) / least(times.floor);
      rows.push(
        `| ${source} | ${size.toLocaleString("en")} | ${floorMs.toFixed(1)} | ${admissionMs.toFixed(1)} | ${(admissionMs / floorMs).toFixed(2)} | ${leastRatio.toFixed(2)} | ${withHashMs.toFixed(1)} | ${(withHashMs / floorMs).toFixed(2)} |`,
      );
    }
  }, 600_000);
});

type Measured = { status: string; storedBytes: number };

/** Admits the signed body in a fresh process with this much V8 heap; null when it does not fit. */
async function admitInProcess(source: SourceName, file: string, heapMb: number): Promise<Measured | null> {
  try {
    const { stdout } = await run(process.execPath, [`--max-old-space-size=${heapMb}`, "--import", "tsx", "test/helpers/bench/admissionMemory.ts", source, file], {
      maxBuffer: 1 << 20,
    });
    return JSON.parse(stdout.trim().split("\n").at(-1)!) as Measured;
  } catch {
    return null;
  }
}

describe("the memory admission needs", () => {
  test.each(MEMORY_SIZES)("%i bytes: each source admits its body in a fresh process and stores exactly the bytes received", async (size) => {
    mkdirSync("build/bench", { recursive: true });
    await Promise.all(
      SOURCES.map(async (source) => {
        const parts = await signedBenchDelivery(source, size, Math.floor(Date.now() / 1000));
        const file = `build/bench/${source}-${size}.body`;
        writeFileSync(file, Buffer.concat([Buffer.from(`${JSON.stringify({ path: parts.path, headers: parts.headers })}\n`), Buffer.from(parts.body)]));
        const measured = await admitInProcess(source, file, ISOLATE_HEAP_MB);
        expect(measured).toEqual({ status: "deliver", storedBytes: parts.body.length });
        if (!SEARCH_HEAP) return;
        let [fits, fails] = [ISOLATE_HEAP_MB, 4];
        while (fits - fails > 1) {
          const heap = Math.floor((fits + fails) / 2);
          [fits, fails] = (await admitInProcess(source, file, heap)) === null ? [fits, heap] : [heap, fails];
        }
        rows.push(`| ${source} | ${size.toLocaleString("en")} | ${fits} MB |`);
      }),
    );
  }, 600_000);

  test("the figures are written to build/bench/admission.md", () => {
    const table = [
      "| source | body bytes | floor ms (median) | admission ms (median) | ratio | ratio of the least times | with SHA-256 ms (median) | ratio |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
      ...rows.filter((row) => row.split("|").length > 5),
      "",
      "| source | body bytes | smallest heap that admits it |",
      "| --- | ---: | ---: |",
      ...rows.filter((row) => row.split("|").length <= 5),
    ].join("\n");
    writeFileSync("build/bench/admission.md", `${table}\n`);
    process.stdout.write(`\n${table}\n\n`);
    expect(rows.length).toBeGreaterThan(0);
  });
});
