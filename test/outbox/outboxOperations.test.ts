import { describe, expect, test, vi } from "vitest";
import { internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { countFailedRows } from "../../convex/outbox/rows";
import { expectConvexError } from "../helpers/assertions";
import { settle } from "../helpers/clock";
import { outboxCounts, outboxRows } from "../helpers/outbox/rows";
import { backend, queue, service, withProbe } from "../helpers/outbox/probe";

/*
 * The outbox's engine, the same for every destination, driven through the
 * probe destination (test/helpers/outbox/probe.ts): recovery, replay and the counts operators read.
 */

withProbe();

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
    expect(await outboxRows(t)).toEqual([expect.objectContaining({ status: "sent", attempts: 2 })]);
  });

  test("a failed row is replayed in its place in its lane; a sent one is refused; replayFailed takes a destination's oldest", async () => {
    const t = backend();
    service.answerNext({ kind: "failed", error: "forbidden", httpStatus: 403 }, { kind: "failed", error: "forbidden", httpStatus: 403 });
    const [first, second] = await queue(t, "a", "first", "second");
    await settle(t);
    expect(await outboxCounts(t, "probe")).toEqual({ queued: 0, sending: 0, sent: 0, failed: 2 });

    expect(await t.mutation(internal.outbox.replay, { rowId: second })).toEqual({ rowId: second, previousError: "forbidden" });
    await queue(t, "a", "third");
    await settle(t);
    await expectConvexError(t.mutation(internal.outbox.replay, { rowId: second }), "INVALID_ARGUMENT");
    expect(await t.mutation(internal.outbox.replayFailed, { destination: "slack" })).toEqual([]);
    expect(await t.mutation(internal.outbox.replayFailed, { destination: "probe" })).toEqual([first]);
    await settle(t);

    expect(service.textsOf("a")).toEqual(["first", "second", "second", "third", "first"]);
    expect(await outboxCounts(t, "probe")).toEqual({ queued: 0, sending: 0, sent: 3, failed: 0 });
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
    expect(await outboxCounts(t, "probe")).toEqual({ queued: 0, sending: 0, sent: 4, failed: 1 });
    expect(await t.run(async (ctx) => [await countFailedRows(ctx, "probe"), await countFailedRows(ctx, "retired")])).toEqual([1, 2]);

    await t.mutation(internal.outbox.replay, { rowId: row });
    await settle(t);
    expect(await outboxCounts(t, "probe")).toEqual({ queued: 0, sending: 0, sent: 5, failed: 0 });
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
