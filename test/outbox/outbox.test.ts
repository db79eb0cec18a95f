import { v, type Infer } from "convex/values";
import { beforeEach, describe, expect, test, vi } from "vitest";
import { internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { destination, outboxHandle, type Answer, type Prepared } from "../../convex/outbox/destination";
import { enqueue, type NewRow } from "../../convex/outbox/enqueue";
import { countFailedRows } from "../../convex/outbox/rows";
import { outboxRunner } from "../../convex/outbox/runner";
import { delayRange, retryPolicy } from "../../src/retry";
import { expectConvexError, snapshotTables } from "../helpers/assertions";
import { newBackend, type Backend } from "../helpers/backend";
import { settle, withFakeClock } from "../helpers/clock";

/*
 * The outbox's engine, the same for every destination, driven through a
 * destination made here: one adapter (what to send for a row, how to read
 * the answer) and its runner functions as a module of its own, as
 * docs/architecture.md's "Adding a destination" describes. Its service is a
 * fake that records each request and answers as told.
 */

type Note = { kind: "note"; text: string };
type ServiceCall = { lane: string; text: string; uncertain: boolean; at: number; answer: Answer };

/** The outside service: answers `sent` unless told otherwise, and records every request with the time it came. */
class FakeService {
  calls: ServiceCall[] = [];
  inFlight = new Map<string, number>();
  mostInFlight = 0;
  private next: Answer[] = [];

  answerNext(...answers: Answer[]) {
    this.next.push(...answers);
  }

  async send(call: { lane: string; text: string; uncertain: boolean }): Promise<Answer> {
    this.inFlight.set(call.lane, (this.inFlight.get(call.lane) ?? 0) + 1);
    this.mostInFlight = Math.max(this.mostInFlight, this.inFlight.get(call.lane)!);
    await Promise.resolve();
    const answer = this.next.shift() ?? { kind: "sent", result: `#${this.calls.length + 1}` };
    this.calls.push({ ...call, at: Date.now(), answer });
    this.inFlight.set(call.lane, this.inFlight.get(call.lane)! - 1);
    return answer;
  }

  textsOf(lane: string) {
    return this.calls.filter((call) => call.lane === lane).map(({ text }) => text);
  }
}

let service = new FakeService();

// The registration: a name and the shape of its requests.
const probeOutbox = outboxHandle("probe", v.object({ kind: v.literal("note"), text: v.string() }));

// The adapter: a note whose text is "gone" stands for a fact deleted before it was sent.
const vProbeCall = v.object({ lane: v.string(), text: v.string(), uncertain: v.boolean() });
const probe = destination({
  handle: probeOutbox,
  call: vProbeCall,
  spacingMs: 500,
  retry: retryPolicy({ initialMs: 2_000, factor: 3, maxDelayMs: 60_000, maxAttempts: 4 }),
  prepare: async (_ctx, row): Promise<Prepared<Infer<typeof vProbeCall>>> =>
    row.request.text === "gone"
      ? { gone: "The note no longer exists." }
      : { call: { lane: row.lane, text: row.request.text, uncertain: row.uncertain === true }, method: "POST /notes" },
  send: async (call) => await service.send(call),
});

function backend(): Backend {
  return newBackend(true, { "../../convex/outbox/destinations/probe.ts": async () => outboxRunner(probe) });
}

withFakeClock();
beforeEach(() => {
  service = new FakeService();
});

async function queue(t: Backend, lane: string, ...rows: (string | NewRow<Note>)[]) {
  return await t.run(
    async (ctx) => await enqueue(ctx, probeOutbox, lane, rows.map((row) => (typeof row === "string" ? { request: { kind: "note" as const, text: row } } : row))),
  );
}

const unordered = (text: string): NewRow<Note> => ({ request: { kind: "note", text }, unordered: true });

async function rowsOf(t: Backend) {
  return await t.run(async (ctx) => await ctx.db.query("outbox").collect());
}

/** The probe's rows by status, as operators see them. */
async function probeCounts(t: Backend) {
  const { counts } = await t.query(internal.outbox.status, {});
  return Object.fromEntries(counts.filter(({ destination: name }) => name === "probe").map(({ status, count }) => [status, count]));
}

const gaps = (calls: ServiceCall[]) => calls.slice(1).map(({ at }, i) => at - calls[i].at);

describe("lanes", () => {
  test("a lane sends its rows in order, one request at a time, at its destination's pace; lanes do not wait for each other", async () => {
    const t = backend();
    await queue(t, "a", "a1", "a2", "a3");
    await queue(t, "b", "b1", "b2", "b3");
    await settle(t);

    expect(service.textsOf("a")).toEqual(["a1", "a2", "a3"]);
    expect(service.textsOf("b")).toEqual(["b1", "b2", "b3"]);
    expect(service.mostInFlight).toBe(1);
    for (const lane of ["a", "b"]) {
      expect(Math.min(...gaps(service.calls.filter((call) => call.lane === lane)))).toBeGreaterThanOrEqual(500);
    }
    // b's first request did not wait for a's last.
    expect(service.calls.find((call) => call.text === "b1")!.at).toBeLessThan(service.calls.find((call) => call.text === "a3")!.at);
    expect((await rowsOf(t)).map(({ status, result }) => [status, result])).toEqual(Array.from({ length: 6 }, () => ["sent", expect.stringMatching(/^#\d$/)]));
  });

  test("a row waiting for its retry holds back the later ordered rows of its lane, but not an unordered row, nor another lane", async () => {
    const t = backend();
    service.answerNext({ kind: "retry", error: "busy", retryAfterMs: 10_000 });
    await queue(t, "a", "first", "second");
    await queue(t, "a", unordered("aside"));
    await queue(t, "b", "elsewhere");
    await settle(t);

    expect(service.textsOf("a")).toEqual(["first", "aside", "first", "second"]);
    const [failedFirst, aside, retried] = service.calls.filter((call) => call.lane === "a");
    expect(aside.at - failedFirst.at).toBeLessThan(10_000);
    expect(retried.at - failedFirst.at).toBe(10_000);
    expect(service.calls.find((call) => call.text === "elsewhere")!.at).toBeLessThan(retried.at);
  });

  test("an unordered row waiting for its own retry holds back nothing", async () => {
    const t = backend();
    service.answerNext({ kind: "retry", error: "busy", retryAfterMs: 30_000 });
    await queue(t, "a", unordered("aside"));
    await queue(t, "a", "first", "second");
    await settle(t);
    expect(service.textsOf("a")).toEqual(["aside", "first", "second", "aside"]);
  });
});

describe("retries and failures", () => {
  test("backoff within the policy's bounds, Retry-After honoured up to its cap, then the row fails with why", async () => {
    const t = backend();
    service.answerNext(
      { kind: "retry", error: "HTTP 503", httpStatus: 503 },
      { kind: "retry", error: "HTTP 429", retryAfterMs: 3 * 60 * 60_000, httpStatus: 429 },
      { kind: "retry", error: "HTTP 429", retryAfterMs: 7_000, httpStatus: 429 },
      { kind: "retry", error: "HTTP 503", httpStatus: 503 },
    );
    await queue(t, "a", "note");
    await settle(t);

    const [first, second, third] = gaps(service.calls);
    expect(first).toBeGreaterThanOrEqual(delayRange(probe.retry, 1).minMs);
    expect(first).toBeLessThanOrEqual(delayRange(probe.retry, 1).maxMs);
    expect([second, third]).toEqual([60_000, 7_000]);
    expect(service.calls).toHaveLength(4);
    expect(await rowsOf(t)).toEqual([
      expect.objectContaining({ status: "failed", attempts: 4, httpStatus: 503, error: "HTTP 503 (gave up after 4 attempts)" }),
    ]);
    expect(await probeCounts(t)).toEqual({ queued: 0, sending: 0, sent: 0, failed: 1 });
  });

  test("a row refused for good fails at once with its code and status, and blocks nothing; a row whose fact is gone fails without a request", async () => {
    const t = backend();
    service.answerNext({ kind: "failed", error: "unprocessable", httpStatus: 422 });
    await queue(t, "a", "refused", "gone", "after");
    await settle(t);

    expect(service.textsOf("a")).toEqual(["refused", "after"]);
    expect((await rowsOf(t)).map(({ status, error, httpStatus, attempts }) => ({ status, error, httpStatus, attempts }))).toEqual([
      { status: "failed", error: "unprocessable", httpStatus: 422, attempts: 1 },
      { status: "failed", error: "The note no longer exists.", httpStatus: undefined, attempts: 0 },
      { status: "sent", error: undefined, httpStatus: undefined, attempts: 1 },
    ]);
    expect(await probeCounts(t)).toEqual({ queued: 0, sending: 0, sent: 1, failed: 2 });
  });

  test("an adapter that throws is read as an answer that may have arrived: retried, and marked uncertain for the next attempt", async () => {
    const t = backend();
    const send = vi.spyOn(service, "send").mockRejectedValueOnce(new Error("socket hang up"));
    await queue(t, "a", "note");
    await settle(t);
    expect(send).toHaveBeenCalledTimes(2);
    expect(service.calls).toEqual([expect.objectContaining({ text: "note", uncertain: true })]);
    expect(await rowsOf(t)).toEqual([expect.objectContaining({ status: "sent", attempts: 2 })]);
  });

  test("a request that does not match its destination's shape is refused where it is queued, and nothing is written", async () => {
    const t = backend();
    const before = await snapshotTables(t);
    await expect(queue(t, "a", { request: { kind: "note", text: 12 } as unknown as Note })).rejects.toThrow(/text/);
    expect(await snapshotTables(t)).toEqual(before);
  });
});

describe("recovery, replay and counts", () => {
  test("a lost runner is replaced by the recovery cron, and a row it left being sent is sent again, marked uncertain", async () => {
    const t = backend();
    await queue(t, "a", "note");
    await t.run(async (ctx) => {
      const lane = (await ctx.db.query("outbox_lanes").collect())[0];
      await ctx.scheduler.cancel(lane.runner!);
      const row = (await ctx.db.query("outbox").collect())[0];
      await ctx.db.patch("outbox", row._id, { status: "sending", attempts: 1 });
    });
    expect(await t.mutation(internal.outbox.maintenance.recoverLost, {})).toBe(0);
    vi.advanceTimersByTime(11 * 60_000);
    vi.spyOn(console, "warn").mockImplementation(() => {});
    expect(await t.mutation(internal.outbox.maintenance.recoverLost, {})).toBe(1);
    await settle(t);

    expect(service.calls).toEqual([expect.objectContaining({ text: "note", uncertain: true })]);
    expect(await rowsOf(t)).toEqual([expect.objectContaining({ status: "sent", attempts: 2 })]);
  });

  test("a failed row is replayed in its place in its lane; a sent one is refused; replayFailed takes a destination's oldest", async () => {
    const t = backend();
    service.answerNext({ kind: "failed", error: "forbidden", httpStatus: 403 }, { kind: "failed", error: "forbidden", httpStatus: 403 });
    const [first, second] = await queue(t, "a", "first", "second");
    await settle(t);
    expect(await probeCounts(t)).toEqual({ queued: 0, sending: 0, sent: 0, failed: 2 });

    expect(await t.mutation(internal.outbox.replay, { rowId: second })).toEqual({ rowId: second, previousError: "forbidden" });
    await queue(t, "a", "third");
    await settle(t);
    await expectConvexError(t.mutation(internal.outbox.replay, { rowId: second }), "INVALID_ARGUMENT");
    expect(await t.mutation(internal.outbox.replayFailed, { destination: "slack" })).toEqual([]);
    expect(await t.mutation(internal.outbox.replayFailed, { destination: "probe" })).toEqual([first]);
    await settle(t);

    expect(service.textsOf("a")).toEqual(["first", "second", "second", "third", "first"]);
    expect(await probeCounts(t)).toEqual({ queued: 0, sending: 0, sent: 3, failed: 0 });
  });

  test("operators see counts by destination, here and in the inbox's status, and the latest failures with their destination and lane", async () => {
    const t = backend();
    service.answerNext({ kind: "failed", error: "gone_for_good", httpStatus: 410 });
    await queue(t, "a", "lost", "kept");
    await queue(t, "b", "kept too");
    await settle(t);

    const status = await t.query(internal.outbox.status, {});
    expect(status.counts.filter(({ count }) => count > 0)).toEqual([
      { destination: "probe", status: "sent", count: 2 },
      { destination: "probe", status: "failed", count: 1 },
    ]);
    expect(status.counts.filter(({ destination: name }) => name === "slack").map(({ count }) => count)).toEqual([0, 0, 0, 0]);
    expect(status.recentFailures).toEqual([
      { rowId: expect.any(String), destination: "probe", lane: "a", kind: "note", method: "POST /notes", attempts: 1, error: "gone_for_good", httpStatus: 410, finishedAt: expect.any(Number) },
    ]);
    const inbox = await t.query(internal.ingest.inboxStatus, {});
    expect(inbox.outbound).toEqual(status.counts);
    expect(await t.mutation(internal.outbox.replayFailed, { destination: "probe", limit: 5 })).toEqual([status.recentFailures[0].rowId as Id<"outbox">]);
  });

  test("counts kept in outbox_counters before outbox_tallies are still counted, here, in the alerts' count and after a replay moves a row they counted", async () => {
    const t = backend();
    service.answerNext({ kind: "failed", error: "forbidden", httpStatus: 403 });
    const [row] = await queue(t, "a", "counted before");
    await settle(t);
    // As a deployment counted before outbox_tallies: the failed row, and 4 sent rows, in outbox_counters; and a destination since removed.
    const before = await t.run(async (ctx) => {
      for (const tally of await ctx.db.query("outbox_tallies").collect()) {
        await ctx.db.delete("outbox_tallies", tally._id);
      }
      await ctx.db.insert("outbox_counters", { destination: "probe", status: "failed", shard: 5, count: 1 });
      await ctx.db.insert("outbox_counters", { destination: "probe", status: "sent", shard: 2, count: 4 });
      await ctx.db.insert("outbox_counters", { destination: "retired", status: "failed", shard: 0, count: 2 });
      return await ctx.db.query("outbox_counters").collect();
    });
    expect(await probeCounts(t)).toEqual({ queued: 0, sending: 0, sent: 4, failed: 1 });
    expect(await t.run(async (ctx) => [await countFailedRows(ctx, "probe"), await countFailedRows(ctx, "retired")])).toEqual([1, 2]);

    await t.mutation(internal.outbox.replay, { rowId: row });
    await settle(t);
    expect(await probeCounts(t)).toEqual({ queued: 0, sending: 0, sent: 5, failed: 0 });
    const { counts } = await t.query(internal.outbox.status, {});
    expect(counts.filter(({ destination: name }) => name === "retired")).toEqual([
      { destination: "retired", status: "queued", count: 0 },
      { destination: "retired", status: "sending", count: 0 },
      { destination: "retired", status: "sent", count: 0 },
      { destination: "retired", status: "failed", count: 2 },
    ]);
    expect(await t.run(async (ctx) => await ctx.db.query("outbox_counters").collect()), "outbox_counters, never written").toEqual(before);
  });

  test("replayFailed and purgeSent read at most 8 MiB a transaction, whatever the rows' sizes, and go on", async () => {
    const t = backend();
    const ROWS = 25;
    // Rows of 700 kB each: 25 of them are more than one transaction may read.
    for (let start = 0; start < ROWS; start += 5) {
      await t.run(async (ctx) => {
        for (let i = start; i < start + 5; i += 1) {
          const request = { kind: "note", text: `${i} ${"x".repeat(700_000)}` };
          await ctx.db.insert("outbox", { destination: "probe", lane: "a", ordered: true, enqueuedAt: i, request, status: "failed", attempts: 4, finishedAt: i });
        }
      });
    }
    const first = await t.mutation(internal.outbox.replayFailed, { destination: "probe" });
    expect(first.length).toBeGreaterThan(0);
    expect(first.length).toBeLessThanOrEqual(Math.floor((8 * 1024 * 1024) / 700_000));
    let replayed = first.length;
    while (replayed < ROWS) {
      replayed += (await t.mutation(internal.outbox.replayFailed, { destination: "probe" })).length;
    }
    expect(replayed).toBe(ROWS);

    for (let done = 0; done < ROWS; done += 5) {
      await t.run(async (ctx) => {
        for (const row of await ctx.db.query("outbox").withIndex("by_status_finishedAt", (q) => q.eq("status", "queued")).take(5)) {
          await ctx.db.patch("outbox", row._id, { status: "sent", finishedAt: 0 });
        }
      });
    }
    vi.spyOn(console, "log").mockImplementation(() => {});
    const purged = await t.mutation(internal.outbox.maintenance.purgeSent, {});
    expect(purged).toBeGreaterThan(0);
    expect(purged).toBeLessThan(ROWS);
    await settle(t);
    expect(await t.run(async (ctx) => await ctx.db.query("outbox").take(1))).toEqual([]);
  });
});
