import { describe, expect, test, vi } from "vitest";
import { delayRange } from "../../src/retry";
import { snapshotTables } from "../helpers/assertions";
import { settle } from "../helpers/clock";
import { outboxCounts, outboxRows } from "../helpers/outbox/rows";
import { backend, gaps, probe, queue, service, unordered, withProbe, type Note } from "../helpers/outbox/probe";

/*
 * The outbox's engine, the same for every destination, driven through the
 * probe destination (test/helpers/outbox/probe.ts): its lanes, retries and failures.
 */

withProbe();

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
    expect((await outboxRows(t)).map(({ status, result }) => [status, result])).toEqual(Array.from({ length: 6 }, () => ["sent", expect.stringMatching(/^#\d$/)]));
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
    expect(await outboxRows(t)).toEqual([
      expect.objectContaining({ status: "failed", attempts: 4, httpStatus: 503, error: "HTTP 503 (gave up after 4 attempts)" }),
    ]);
    expect(await outboxCounts(t, "probe")).toEqual({ queued: 0, sending: 0, sent: 0, failed: 1 });
  });

  test("a row refused for good fails at once with its code and status, and blocks nothing; a row whose fact is gone fails without a request", async () => {
    const t = backend();
    service.answerNext({ kind: "failed", error: "unprocessable", httpStatus: 422 });
    await queue(t, "a", "refused", "gone", "after");
    await settle(t);

    expect(service.textsOf("a")).toEqual(["refused", "after"]);
    expect((await outboxRows(t)).map(({ status, error, httpStatus, attempts }) => ({ status, error, httpStatus, attempts }))).toEqual([
      { status: "failed", error: "unprocessable", httpStatus: 422, attempts: 1 },
      { status: "failed", error: "The note no longer exists.", httpStatus: undefined, attempts: 0 },
      { status: "sent", error: undefined, httpStatus: undefined, attempts: 1 },
    ]);
    expect(await outboxCounts(t, "probe")).toEqual({ queued: 0, sending: 0, sent: 1, failed: 2 });
  });

  test("an adapter that throws is read as an answer that may have arrived: retried, and marked uncertain for the next attempt", async () => {
    const t = backend();
    const send = vi.spyOn(service, "send").mockRejectedValueOnce(new Error("socket hang up"));
    await queue(t, "a", "note");
    await settle(t);
    expect(send).toHaveBeenCalledTimes(2);
    expect(service.calls).toEqual([expect.objectContaining({ text: "note", uncertain: true })]);
    expect(await outboxRows(t)).toEqual([expect.objectContaining({ status: "sent", attempts: 2 })]);
  });

  test("a request that does not match its destination's shape is refused where it is queued, and nothing is written", async () => {
    const t = backend();
    const before = await snapshotTables(t);
    await expect(queue(t, "a", { request: { kind: "note", text: 12 } as unknown as Note })).rejects.toThrow(/text/);
    expect(await snapshotTables(t)).toEqual(before);
  });
});

