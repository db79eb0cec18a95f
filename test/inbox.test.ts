import { describe, expect, test, vi } from "vitest";
import { internal } from "../convex/_generated/api";
import type { Id } from "../convex/_generated/dataModel";
import aliceRootAsMessage from "../fixtures/slack/02-alice-root-as-message.json";
import { DELIVERY_RETRY, DELIVERY_TALLY_SHARDS, insertDelivery } from "../convex/model/inbox/deliveries";
import { delayRange } from "../src/retry";
import { sha256Hex } from "../src/hmac";
import { newBackend, type Backend } from "./helpers/backend";
import { EVENTS_SECRET, postEvent, statusChanged } from "./helpers/senders/events";
import { postGithub, pushOf } from "./helpers/senders/github";
import { expectConvexError, expectNothingWritten } from "./helpers/assertions";
import { newSession, linksOf } from "./helpers/records";
import { withFakeClock, settle, runDue } from "./helpers/clock";
import { configureSlackApp, postSlackEvent } from "./helpers/senders/slack";
import {
  BODY_PATHS,
  deliveryRow,
  keptBodies,
  onBodyPath,
  processingRun,
  PROCESSING_RUNS,
  replaceBody,
  restoreBody,
  stored,
  storedBody,
} from "./helpers/inbox";
import { liveOrder } from "./helpers/workOrders";

// The inbox's retry policy: its attempts, and the longest wait after attempt n (jitter only shortens it).
const MAX_ATTEMPTS = DELIVERY_RETRY.maxAttempts!;
const longestWait = (attemptsMade: number) => delayRange(DELIVERY_RETRY, attemptsMade).maxMs;

withFakeClock();

const FEATURE_BRANCH = { targetRepo: "acme/widgets", targetBranch: "feature/sso" };

async function orderOnFeatureBranch(t: Backend) {
  return await liveOrder(t, await newSession(t, "alice"), FEATURE_BRANCH);
}

/** A push to the order's branch whose first run failed (its stored body gone) and whose retry waits; the body's bytes, to put back. */
async function pushAwaitingRetry(t: Backend) {
  await orderOnFeatureBranch(t);
  const deliveryId = (await postGithub(t, { event: "push", payload: pushOf(FEATURE_BRANCH, 1) })).body.delivery as Id<"webhook_deliveries">;
  const bytes = await replaceBody(t, deliveryId, null);
  await runDue(t);
  expect(await pendingRuns(t)).toHaveLength(1);
  return { deliveryId, bytes };
}

/** A delivery's attempt history, as an operator reads it. */
async function attemptsOf(t: Backend, deliveryId: unknown) {
  return await t.query(internal.ingest.attempts, { deliveryId: deliveryId as Id<"webhook_deliveries"> });
}

/** The processing runs of deliveries that are waiting to start. */
async function pendingRuns(t: Backend) {
  return await t.run(async (ctx) =>
    (await ctx.db.system.query("_scheduled_functions").collect()).filter(
      (job) => PROCESSING_RUNS.includes(job.name) && job.state.kind === "pending",
    ),
  );
}

/** Sets a scheduled run's state as Convex's scheduler does (convex-test lets a test write its system table). */
async function setRunState(t: Backend, runId: Id<"_scheduled_functions">, state: { kind: string; error?: string }) {
  await t.run(async (ctx) => {
    const db = ctx.db as unknown as { patch: (table: string, id: string, fields: object) => Promise<void> };
    await db.patch("_scheduled_functions", runId, { state });
  });
}

// Every promise of the inbox holds on both of its roads: a body kept as text and applied by a
// scheduled mutation, and one in file storage processed by an action (WEBHOOK_INLINE_BODY_BYTES lowered).
describe.each(BODY_PATHS)("$road", (road) => {
  onBodyPath(road);

  describe("processing failures", () => {
    test("a processing run that throws midway leaves no partial writes; retries back off, then the delivery stays failed", async () => {
      // 20 commits to link, but at most 8 writes per transaction: applying them must fail.
      const t = newBackend({ documentsWritten: 8 });
      const workOrderId = await orderOnFeatureBranch(t);
      const linksBefore = await linksOf(t, workOrderId);
      const start = Date.now();
      const response = await postGithub(t, { event: "push", payload: pushOf(FEATURE_BRANCH, 20) });
      expect(response.body.status).toBe("accepted");

      await runDue(t);
      let failed = await deliveryRow(t, response.body.delivery);
      expect(failed).toMatchObject({ status: "failed", attempts: 1, error: expect.stringMatching(/limit|writ/i) });
      expect(failed.nextAttemptAt! - start).toBeGreaterThanOrEqual(delayRange(DELIVERY_RETRY, 1).minMs);
      expect(await linksOf(t, workOrderId)).toEqual(linksBefore);

      for (let attempt = 2; attempt <= MAX_ATTEMPTS; attempt += 1) {
        await runDue(t, longestWait(attempt - 1));
        failed = await deliveryRow(t, response.body.delivery);
        expect(failed.attempts).toBe(attempt);
      }
      expect(failed.status).toBe("failed");
      expect(failed.nextAttemptAt).toBeUndefined();
      expect(await linksOf(t, workOrderId)).toEqual(linksBefore);

      // Nothing is scheduled any more: it stays failed until replayed by hand.
      vi.advanceTimersByTime(24 * 60 * 60 * 1000);
      await settle(t);
      expect((await deliveryRow(t, response.body.delivery)).attempts).toBe(MAX_ATTEMPTS);

      const inbox = await t.query(internal.ingest.inboxStatus, {});
      expect(inbox.counts).toContainEqual({ source: "github", status: "failed", count: 1 });
      expect(inbox.recentFailures).toEqual([
        expect.objectContaining({ deliveryId: response.body.delivery, attempts: MAX_ATTEMPTS, event: "push" }),
      ]);
    });

    test("after a failed attempt, the retry applies the delivery once, and a manual replay changes nothing twice", async () => {
      const t = newBackend();
      const workOrderId = await orderOnFeatureBranch(t);
      const response = await postGithub(t, { event: "push", payload: pushOf(FEATURE_BRANCH, 3) });
      // The stored body goes missing before the first run, and is restored before the retry.
      const bytes = await replaceBody(t, response.body.delivery, null);
      await runDue(t);
      const failed = await deliveryRow(t, response.body.delivery);
      expect(failed).toMatchObject({ status: "failed", attempts: 1, error: expect.stringMatching(/missing/) });
      expect(await linksOf(t, workOrderId)).toEqual([]);

      await restoreBody(t, failed._id, bytes);
      await runDue(t, longestWait(1));
      const processed = await deliveryRow(t, response.body.delivery);
      expect(processed).toMatchObject({ status: "processed", attempts: 2, touchedCount: 3 });
      expect(processed.error).toBeUndefined();
      const links = await linksOf(t, workOrderId);
      expect(links).toHaveLength(3);

      const replayed = await t.mutation(internal.ingest.replay, { deliveryId: processed._id });
      expect(replayed).toEqual({ deliveryId: processed._id, previousStatus: "processed" });
      await settle(t);
      expect(await linksOf(t, workOrderId)).toEqual(links);
      expect(await deliveryRow(t, response.body.delivery)).toMatchObject({ status: "processed", touchedCount: 0 });
    });

    test("replayFailed requeues the failed deliveries of a source", async () => {
      const t = newBackend({ documentsWritten: 8 });
      await orderOnFeatureBranch(t);
      const response = await postGithub(t, { event: "push", payload: pushOf(FEATURE_BRANCH, 20) });
      await settle(t);
      expect((await deliveryRow(t, response.body.delivery)).status).toBe("failed");
      expect(await t.mutation(internal.ingest.replayFailed, { source: "slack" })).toEqual([]);
      expect(await t.mutation(internal.ingest.replayFailed, { source: "github" })).toEqual([response.body.delivery]);
      expect(await deliveryRow(t, response.body.delivery)).toMatchObject({ status: "accepted", attempts: 0 });
    });

    test("a delivery whose scheduled run was lost is picked up again by the recovery cron", async () => {
      const t = newBackend();
      const workOrderId = await orderOnFeatureBranch(t);
      const response = await postGithub(t, { event: "push", payload: pushOf(FEATURE_BRANCH, 2) });
      // Lose the scheduled run.
      await t.run(async (ctx) => {
        for (const job of await ctx.db.system.query("_scheduled_functions").collect()) {
          if (job.state.kind === "pending") {
            await ctx.scheduler.cancel(job._id);
          }
        }
      });
      expect(await t.mutation(internal.inbox.maintenance.recoverLost, {})).toBe(0);
      vi.advanceTimersByTime(11 * 60 * 1000);
      expect(await t.mutation(internal.inbox.maintenance.recoverLost, {})).toBe(1);
      await settle(t);
      expect((await deliveryRow(t, response.body.delivery)).status).toBe("processed");
      expect(await linksOf(t, workOrderId)).toHaveLength(2);
      expect(await t.mutation(internal.inbox.maintenance.recoverLost, {})).toBe(0);
    });
  });

  describe("attempt history", () => {
    test("every attempt is kept with its outcome, error, records touched and cost; a replay adds to the history and erases nothing", async () => {
      const t = newBackend();
      const workOrderId = await orderOnFeatureBranch(t);
      const response = await postGithub(t, { event: "push", payload: pushOf(FEATURE_BRANCH, 3) });
      const deliveryId = response.body.delivery;
      const bytes = await replaceBody(t, deliveryId, null);
      await runDue(t);
      await restoreBody(t, deliveryId, bytes);
      await runDue(t, longestWait(1));
      expect(await linksOf(t, workOrderId)).toHaveLength(3);
      const firstRound = await attemptsOf(t, deliveryId);
      expect(firstRound).toEqual([
        expect.objectContaining({ outcome: "failed", error: expect.stringMatching(/missing/), retryAt: expect.any(Number) }),
        expect.objectContaining({ outcome: "processed", touchedCount: 3, cost: expect.objectContaining({ documentsWritten: expect.any(Number) }) }),
      ]);
      expect(firstRound[1].touched).toHaveLength(3);
      expect(firstRound[1].touched![0]).toMatchObject({ table: "work_order_links" });

      await t.mutation(internal.ingest.replay, { deliveryId: deliveryId as Id<"webhook_deliveries"> });
      await settle(t);
      const history = await attemptsOf(t, deliveryId);
      expect(history.slice(0, 2)).toEqual(firstRound);
      expect(history.slice(2)).toEqual([
        expect.objectContaining({ outcome: "replayed", detail: "Replayed by an operator; it was processed after 2 attempt(s)." }),
        expect.objectContaining({ outcome: "processed", touchedCount: 0 }),
      ]);
    });

    test("a replay while a retry waits replaces the retry: one run, not two", async () => {
      const t = newBackend();
      const { deliveryId, bytes } = await pushAwaitingRetry(t);
      await restoreBody(t, deliveryId, bytes);
      await t.mutation(internal.ingest.replay, { deliveryId });
      expect(await pendingRuns(t)).toHaveLength(1);
      await settle(t);
      expect((await attemptsOf(t, deliveryId)).map((attempt) => attempt.outcome)).toEqual(["failed", "replayed", "processed"]);
    });
  });

  describe("a stored body that no longer reads", () => {
    const posts = {
      github: async (t: Backend) => (await postGithub(t, { event: "push", payload: pushOf(FEATURE_BRANCH, 1) })).body,
      slack: async (t: Backend) => {
        configureSlackApp();
        return (await postSlackEvent(t, aliceRootAsMessage)).body;
      },
      events: async (t: Backend) => {
        vi.stubEnv("EVENTS_WEBHOOK_SECRET", EVENTS_SECRET);
        return (await postEvent(t, { event: statusChanged("k57b8fyq3gw2xxfd4qbqtxj8zx7g0gp4", "running") })).body;
      },
    };
    const unreadable = { "not JSON": "<html>not the stored event</html>", "JSON of another shape": '{"type":"event_callback","data":1}' };
    const cases = (["github", "slack", "events"] as const).flatMap((source) =>
      Object.entries(unreadable).map(([what, bytes]) => [source, what, bytes] as const),
    );

    test.each(cases)("%s, %s: the delivery fails at once with the reason and is not retried", async (source, _what, bytes) => {
      const t = newBackend();
      const accepted = await posts[source](t);
      expect(accepted.status).toBe("accepted");
      await replaceBody(t, accepted.delivery, bytes);
      await runDue(t);

      const failed = await deliveryRow(t, accepted.delivery);
      expect(failed).toMatchObject({ status: "failed", attempts: 1 });
      expect(failed.nextAttemptAt).toBeUndefined();
      expect(failed.error).toMatch(new RegExp(`^A stored ${source} delivery no longer reads: .+`));
      expect(await pendingRuns(t)).toEqual([]);
      expect(await attemptsOf(t, accepted.delivery)).toEqual([
        expect.objectContaining({ outcome: "uninterpretable", error: failed.error }),
      ]);
      expect((await attemptsOf(t, accepted.delivery))[0].retryAt).toBeUndefined();

      // Nothing runs it again by itself: not the retries, not the recovery cron.
      vi.advanceTimersByTime(2 * 60 * 60 * 1000);
      await t.mutation(internal.inbox.maintenance.recoverLost, {});
      await settle(t);
      expect((await deliveryRow(t, accepted.delivery)).attempts).toBe(1);
    });
  });

  describe("lost runs", () => {
    test("a run still waiting on a backed-up scheduler is left alone: no second run is scheduled", async () => {
      const t = newBackend();
      const workOrderId = await orderOnFeatureBranch(t);
      const response = await postGithub(t, { event: "push", payload: pushOf(FEATURE_BRANCH, 2) });
      // The clock moves on, but the scheduler has not started the run yet.
      vi.setSystemTime(Date.now() + 30 * 60 * 1000);
      expect(await t.mutation(internal.inbox.maintenance.recoverLost, {})).toBe(0);
      expect(await pendingRuns(t)).toHaveLength(1);
      await settle(t);
      expect(await deliveryRow(t, response.body.delivery)).toMatchObject({ status: "processed", attempts: 1 });
      expect(await linksOf(t, workOrderId)).toHaveLength(2);
    });

    test("a run that dies outside its try is counted as an attempt by each recovery, and the delivery ends failed once the attempts are spent", async () => {
      const t = newBackend();
      await orderOnFeatureBranch(t);
      const response = await postGithub(t, { event: "push", payload: pushOf(FEATURE_BRANCH, 2) });
      const deliveryId = response.body.delivery;
      // Every run dies where the inbox cannot record it: the body is gone, and
      // recording the failure hits a broken counter (two rows for each shard).
      const bytes = await replaceBody(t, deliveryId, null);
      const faults = await t.run(async (ctx) => {
        const ids = [];
        for (let shard = 0; shard < DELIVERY_TALLY_SHARDS; shard += 1) {
          for (let copy = 0; copy < 2; copy += 1) {
            ids.push(await ctx.db.insert("delivery_tallies", { source: "github", shard, accepted: 0, processed: 0, ignored: 0, failed: 0 }));
          }
        }
        return ids;
      });
      vi.spyOn(console, "error").mockImplementation(() => {});
      await runDue(t);
      for (let recovery = 1; recovery < MAX_ATTEMPTS; recovery += 1) {
        vi.advanceTimersByTime(11 * 60 * 1000);
        expect(await t.mutation(internal.inbox.maintenance.recoverLost, {})).toBe(1);
        expect(await deliveryRow(t, deliveryId)).toMatchObject({ status: "accepted", attempts: recovery });
        await runDue(t);
      }
      const history = await attemptsOf(t, deliveryId);
      expect(history).toHaveLength(MAX_ATTEMPTS - 1);
      for (const attempt of history) {
        expect(attempt).toMatchObject({ outcome: "lost", error: expect.stringMatching(/did not finish: its run failed outside the inbox's handling/) });
      }

      // The last recovery gives up (the counter is mended, so that the failure can be counted).
      await t.run(async (ctx) => {
        for (const id of faults) {
          await ctx.db.delete("delivery_tallies", id);
        }
      });
      vi.advanceTimersByTime(11 * 60 * 1000);
      expect(await t.mutation(internal.inbox.maintenance.recoverLost, {})).toBe(1);
      const failed = await deliveryRow(t, deliveryId);
      expect(failed).toMatchObject({ status: "failed", attempts: MAX_ATTEMPTS, error: expect.stringMatching(/did not finish/) });
      expect(failed.nextAttemptAt).toBeUndefined();
      expect(await pendingRuns(t)).toEqual([]);
      expect(await attemptsOf(t, deliveryId)).toHaveLength(MAX_ATTEMPTS);

      // Later sweeps leave it to an operator; a replay (with the body back) processes it.
      vi.advanceTimersByTime(60 * 60 * 1000);
      expect(await t.mutation(internal.inbox.maintenance.recoverLost, {})).toBe(0);
      await restoreBody(t, deliveryId, bytes);
      await t.mutation(internal.ingest.replay, { deliveryId: deliveryId as Id<"webhook_deliveries"> });
      await settle(t);
      expect((await deliveryRow(t, deliveryId)).status).toBe("processed");
    });
  });

  describe("one live run per delivery", () => {
    /** Marks a scheduled run as Convex does once it has started it. */
    async function startedRun(t: Backend, runId: Id<"_scheduled_functions">) {
      await setRunState(t, runId, { kind: "inProgress" });
    }
    async function scheduledRunOf(t: Backend, deliveryId: unknown) {
      return await processingRun(t, deliveryId);
    }

    test("ingest:replay refuses a delivery whose run is in progress, and changes nothing", async () => {
      const t = newBackend();
      const workOrderId = await orderOnFeatureBranch(t);
      const deliveryId = (await postGithub(t, { event: "push", payload: pushOf(FEATURE_BRANCH, 2) })).body.delivery as Id<"webhook_deliveries">;
      const runId = await scheduledRunOf(t, deliveryId);
      await startedRun(t, runId);
      await expectNothingWritten(t, async () => {
        const error = await expectConvexError(t.mutation(internal.ingest.replay, { deliveryId }), "INVALID_ARGUMENT");
        expect(error.message).toBe(
          `Delivery ${deliveryId} is being processed right now; replay it once that run has ended (ingest:attempts shows how it ended).`,
        );
      });
      // Once the run is over (here: it is canceled), the replay goes through and applies the delivery once.
      await setRunState(t, runId, { kind: "canceled" });
      await t.mutation(internal.ingest.replay, { deliveryId });
      await settle(t);
      expect(await linksOf(t, workOrderId)).toHaveLength(2);
    });

    test("ingest:replayFailed leaves a delivery whose retry is running to that retry", async () => {
      const t = newBackend();
      await orderOnFeatureBranch(t);
      const deliveryId = (await postGithub(t, { event: "push", payload: pushOf(FEATURE_BRANCH, 1) })).body.delivery;
      await replaceBody(t, deliveryId, null);
      await runDue(t);
      expect(await deliveryRow(t, deliveryId)).toMatchObject({ status: "failed", attempts: 1 });
      await startedRun(t, await scheduledRunOf(t, deliveryId));
      expect(await t.mutation(internal.ingest.replayFailed, {})).toEqual([]);
      expect(await pendingRuns(t)).toEqual([]);
      expect((await attemptsOf(t, deliveryId)).map((attempt) => attempt.outcome)).toEqual(["failed"]);
    });

    test("a failure recorded while another run's retry waits replaces that retry: one run waits, not two", async () => {
      const t = newBackend();
      const { deliveryId } = await pushAwaitingRetry(t);
      // A second run of the delivery fails too, as one started before the first retry was scheduled would.
      await t.mutation(internal.inbox.process.recordFailure, { deliveryId, outcome: "failed", error: "The stored body is missing." });
      const pending = await pendingRuns(t);
      expect(pending).toHaveLength(1);
      expect(pending[0]._id).toBe(await scheduledRunOf(t, deliveryId));
    });
  });

  describe("recovery of lost runs, page by page", () => {
    /** `count` accepted deliveries due at `dueAt` whose scheduled runs are gone. */
    async function lostDeliveries(t: Backend, count: number, dueAt: number) {
      await t.run(async (ctx) => {
        const body = await ctx.storage.store(new Blob(["{}"]));
        for (let i = 0; i < count; i += 1) {
          await ctx.db.insert("webhook_deliveries", {
            source: "events",
            deliveryKey: `msg_lost_${dueAt}_${i}`,
            event: "work_order.status.changed",
            contentType: "application/json",
            body,
            bodyBytes: 2,
            receivedAt: dueAt,
            status: "accepted",
            attempts: 0,
            nextAttemptAt: dueAt,
          });
        }
      });
    }

    test("every page of a recovery reads the range its first page fixed: a cursor only continues the query it came from", async () => {
      const t = newBackend();
      await lostDeliveries(t, 150, Date.now() - 20 * 60 * 1000);
      expect(await t.mutation(internal.inbox.maintenance.recoverLost, {})).toBe(100);
      const continuation = await t.run(async (ctx) =>
        (await ctx.db.system.query("_scheduled_functions").collect()).filter(
          (job) => job.name === "inbox/maintenance:recoverLost" && job.state.kind === "pending",
        ),
      );
      expect(continuation).toHaveLength(1);
      // The clock moves on before the next page runs, and more runs become overdue meanwhile.
      vi.setSystemTime(Date.now() + 5 * 60 * 1000);
      await lostDeliveries(t, 30, Date.now() - 11 * 60 * 1000);
      const [args] = continuation[0].args as [Record<string, unknown>];
      expect(args).toMatchObject({ status: "accepted", cursor: expect.any(Array) });
      expect(await t.mutation(internal.inbox.maintenance.recoverLost, args)).toBe(50);
      // The next cron's recovery finds them.
      expect(await t.mutation(internal.inbox.maintenance.recoverLost, {})).toBe(30);
    });

    test("a run Convex recorded as failed with a long error gives the delivery a bounded error", async () => {
      const t = newBackend();
      await orderOnFeatureBranch(t);
      const deliveryId = (await postGithub(t, { event: "push", payload: pushOf(FEATURE_BRANCH, 1) })).body.delivery;
      const scheduledRunId = await processingRun(t, deliveryId);
      // The run dies before it records anything (here: it is canceled, then its record says it failed so).
      await t.run(async (ctx) => await ctx.scheduler.cancel(scheduledRunId!));
      await runDue(t);
      await setRunState(t, scheduledRunId!, { kind: "failed", error: `Uncaught Error: ${"stack ".repeat(2000)}` });
      await t.run(async (ctx) => await ctx.db.patch("webhook_deliveries", deliveryId as Id<"webhook_deliveries">, { attempts: MAX_ATTEMPTS - 1 }));
      vi.advanceTimersByTime(11 * 60 * 1000);
      expect(await t.mutation(internal.inbox.maintenance.recoverLost, {})).toBe(1);
      const failed = await deliveryRow(t, deliveryId);
      expect(failed.status).toBe("failed");
      expect(failed.error).toMatch(/^The run due at .* did not finish: its run failed outside the inbox's handling: Uncaught Error: stack .*…$/);
      expect(failed.error!.length).toBeLessThanOrEqual(2000);
    });
  });

  describe("jobs over deliveries as large as they may be read at most 8 MiB a transaction", () => {
    // A delivery at its documented bounds, in 2-byte text: 100 touched records and 100 skips of 300
    // characters, and a reason or error of 2,000 (about 130 KB). 70 of them, each read twice by the
    // old jobs (in their batch, then to change or delete it), are more than a transaction may read.
    const ROWS = 70;
    const DAY = 24 * 60 * 60 * 1000;
    const BATCH_READ_BYTES = 8 * 1024 * 1024;
    const text = (chars: number) => "é".repeat(chars);

    /** `ROWS` deliveries in `status`, received and due `ageMs` ago, with their scheduled runs gone. */
    async function deliveriesAtTheirBounds(t: Backend, status: "processed" | "accepted" | "failed", ageMs: number) {
      const at = Date.now() - ageMs;
      const body = await t.run(async (ctx) => await ctx.storage.store(new Blob(["{}"])));
      for (let first = 0; first < ROWS; first += 35) {
        await t.run(async (ctx) => {
          for (let i = first; i < Math.min(ROWS, first + 35); i += 1) {
            await insertDelivery(ctx, {
              source: "github",
              deliveryKey: `292430182:bounds-${i}`,
              event: "push",
              contentType: "application/json",
              body,
              bodyBytes: 2,
              receivedAt: at,
              status,
              attempts: status === "failed" ? MAX_ATTEMPTS : 1,
              ...(status === "accepted" ? { nextAttemptAt: at } : { finishedAt: at }),
              ...(status === "failed" ? { error: text(2000) } : { ignoredReason: text(2000) }),
              touched: Array.from({ length: 100 }, (_, n) => ({ table: "work_orders", id: `k57${String(n).padStart(29, "0")}`, change: text(300) })),
              touchedCount: 100,
              skipped: Array.from({ length: 100 }, () => text(300)),
            });
          }
        });
      }
    }

    /** What each transaction of a job read, from the line it logs. */
    function readPerTransaction(line: RegExp) {
      const bytes: number[] = [];
      vi.spyOn(console, "log").mockImplementation((logged: unknown) => {
        const match = line.exec(String(logged));
        if (match) bytes.push((JSON.parse(match[1]) as { bytesRead: number }).bytesRead);
      });
      return bytes;
    }

    async function statuses(t: Backend) {
      return await t.run(async (ctx) => (await ctx.db.query("webhook_deliveries").collect()).map((row) => row.status));
    }

    test(`the daily purge deletes ${ROWS} expired deliveries at their bounds, over transactions of at most 8 MiB read`, async () => {
      const t = newBackend();
      await deliveriesAtTheirBounds(t, "processed", 31 * DAY);
      const read = readPerTransaction(/^inbox: purged \d+ finished deliveries in one transaction (\{.*\})$/);
      await t.mutation(internal.inbox.maintenance.purgeExpired, {});
      await settle(t);
      expect(await statuses(t)).toEqual([]);
      expect(read.length).toBeGreaterThan(1);
      expect(Math.max(...read)).toBeLessThanOrEqual(BATCH_READ_BYTES);
    });

    test(`lost-run recovery requeues ${ROWS} deliveries at their bounds, each cron run reading at most 8 MiB`, async () => {
      const t = newBackend();
      await deliveriesAtTheirBounds(t, "accepted", 11 * 60 * 1000);
      const read = readPerTransaction(/^inbox: recovered \d+ of \d+ accepted deliveries looked at in one transaction (\{.*\})$/);
      let recovered = 0;
      // Each cron run starts again at the range's start; what it recovered has left the range.
      for (let run = 0; run < 10 && recovered < ROWS; run += 1) {
        recovered += await t.mutation(internal.inbox.maintenance.recoverLost, {});
      }
      expect(recovered).toBe(ROWS);
      const attempts = await t.run(async (ctx) => await ctx.db.query("delivery_attempts").collect());
      expect(attempts.map((attempt) => attempt.outcome)).toEqual(Array(ROWS).fill("lost"));
      expect(Math.max(...read)).toBeLessThanOrEqual(BATCH_READ_BYTES);
    });

    test(`replayFailed requeues ${ROWS} failed deliveries at their bounds, as many as one transaction reads within 8 MiB; run again, the rest`, async () => {
      const t = newBackend();
      await deliveriesAtTheirBounds(t, "failed", DAY);
      const read = readPerTransaction(/^ingest:replayFailed: replayed \d+ failed deliveries in one transaction (\{.*\})$/);
      const replayed: string[] = [];
      for (let run = 0; run < 10 && replayed.length < ROWS; run += 1) {
        const ids = await t.mutation(internal.ingest.replayFailed, {});
        expect(ids.length).toBeGreaterThan(0);
        replayed.push(...ids);
      }
      expect(new Set(replayed).size).toBe(ROWS);
      expect(await statuses(t)).toEqual(Array(ROWS).fill("accepted"));
      expect(Math.max(...read)).toBeLessThanOrEqual(BATCH_READ_BYTES);
    });
  });

  describe("large deliveries", () => {
    // GitHub's most (2,048 commits, here to 8 orders) runs in `npm run bench`: the test backend scans a table per index lookup.
    test("a push of 350 commits to three orders on the branch links every commit, over the transactions it needs", async () => {
      const t = newBackend();
      const orders = [await orderOnFeatureBranch(t), await orderOnFeatureBranch(t), await orderOnFeatureBranch(t)];
      const response = await postGithub(t, { event: "push", payload: pushOf(FEATURE_BRANCH, 350) });
      await settle(t);
      const processed = await deliveryRow(t, response.body.delivery);
      expect(processed).toMatchObject({ status: "processed", touchedCount: 3 * 350 });
      for (const workOrderId of orders) {
        expect(await linksOf(t, workOrderId)).toHaveLength(350);
      }
      // Sent again with a new GUID (a redelivery from another hook): nothing new.
      const again = await postGithub(t, { event: "push", payload: pushOf(FEATURE_BRANCH, 350), hookId: "2" });
      await settle(t);
      expect(await deliveryRow(t, again.body.delivery)).toMatchObject({ status: "processed", touchedCount: 0 });
    });
  });

  describe("retention", () => {
    test("deliveries older than DELIVERY_RETENTION_DAYS are purged with their bodies, in batches", async () => {
      vi.stubEnv("DELIVERY_RETENTION_DAYS", "2");
      const t = newBackend();
      for (let i = 0; i < 5; i += 1) {
        await postGithub(t, { event: "star", payload: { action: "created", starred_at: null } });
      }
      // More finished deliveries than one transaction deletes, recorded as the inbox records them.
      await t.run(async (ctx) => {
        for (let i = 0; i < 500; i += 1) {
          const delivery = { source: "github" as const, deliveryKey: `old-${i}`, event: "star", contentType: "application/json", bodyBytes: 2 };
          const deliveryId = await insertDelivery(ctx, { ...delivery, receivedAt: Date.now(), status: "ignored", attempts: 0, ignoredReason: "old" });
          await ctx.db.insert("delivery_bodies", { deliveryId, text: "{}" });
        }
      });
      vi.advanceTimersByTime(2 * 24 * 60 * 60 * 1000 + 1000);
      const recent = (await postGithub(t, { event: "star", payload: { action: "deleted", starred_at: null } })).body.delivery;

      expect(await t.mutation(internal.inbox.maintenance.purgeExpired, {})).toBe(500);
      await settle(t);
      const left = await t.run(async (ctx) => ({
        deliveries: (await ctx.db.query("webhook_deliveries").collect()).map((row) => row._id),
      }));
      expect(left).toEqual({ deliveries: [recent] });
      expect(await keptBodies(t)).toBe(1);
      const inbox = await t.query(internal.ingest.inboxStatus, {});
      expect(inbox.counts).toContainEqual({ source: "github", status: "ignored", count: 1 });
    });

    test("DELIVERY_BODY_RETENTION_DAYS may not exceed DELIVERY_RETENTION_DAYS: the purge fails naming both, and deletes nothing", async () => {
      vi.stubEnv("DELIVERY_RETENTION_DAYS", "2");
      vi.stubEnv("DELIVERY_BODY_RETENTION_DAYS", "3");
      const t = newBackend();
      await postGithub(t, { event: "star", payload: { action: "created", starred_at: null } });
      vi.advanceTimersByTime(4 * 24 * 60 * 60 * 1000);
      const before = await stored(t);
      await expect(t.mutation(internal.inbox.maintenance.purgeExpired, {})).rejects.toThrow(
        /DELIVERY_BODY_RETENTION_DAYS is 3; a body cannot outlive its delivery \(DELIVERY_RETENTION_DAYS is 2\)/,
      );
      expect(await stored(t)).toEqual(before);
    });
  });

  describe("failed deliveries wait for an operator", () => {
    const DAY = 24 * 60 * 60 * 1000;

    /** One delivery in each status, received `DELIVERY_RETENTION_DAYS` + 1 days ago. */
    async function oneOfEach(t: Backend) {
      await orderOnFeatureBranch(t);
      const processed = (await postGithub(t, { event: "push", payload: pushOf(FEATURE_BRANCH, 1) })).body.delivery;
      const ignored = (await postGithub(t, { event: "star", payload: { action: "created", starred_at: null } })).body.delivery;
      const failed = (await postGithub(t, { event: "push", payload: pushOf(FEATURE_BRANCH, 1, 11) })).body.delivery;
      await replaceBody(t, failed, "not JSON");
      await runDue(t);
      const accepted = (await postGithub(t, { event: "push", payload: pushOf(FEATURE_BRANCH, 1, 21) })).body.delivery;
      return { processed, ignored, failed, accepted };
    }

    test("retention purges only processed and ignored deliveries; failed and accepted ones stay, with their bodies, whatever their age", async () => {
      vi.stubEnv("DELIVERY_RETENTION_DAYS", "2");
      const t = newBackend();
      const ids = await oneOfEach(t);
      expect((await deliveryRow(t, ids.failed)).status).toBe("failed");
      // A year passes with the accepted one's run stuck behind a backed-up scheduler.
      vi.setSystemTime(Date.now() + 365 * DAY);
      expect(await t.mutation(internal.inbox.maintenance.purgeExpired, {})).toBe(2);
      const left = await t.run(async (ctx) => ({
        deliveries: (await ctx.db.query("webhook_deliveries").collect()).map((row) => row._id).sort(),
      }));
      expect(left).toEqual({ deliveries: [ids.failed, ids.accepted].sort() });
      expect(await keptBodies(t)).toBe(2);
      const inbox = await t.query(internal.ingest.inboxStatus, {});
      expect(inbox.counts.filter((row) => row.count !== 0)).toEqual([
        { source: "github", status: "accepted", count: 1 },
        { source: "github", status: "failed", count: 1 },
      ]);
    });

    test("DELIVERY_BODY_RETENTION_DAYS drops finished deliveries' bodies before their rows; failed and accepted ones keep theirs; a replay of a dropped one is refused, its attempts stay", async () => {
      vi.stubEnv("DELIVERY_BODY_RETENTION_DAYS", "2");
      const t = newBackend();
      const ids = await oneOfEach(t);
      const history = await attemptsOf(t, ids.processed);
      vi.setSystemTime(Date.now() + 3 * DAY);
      const recent = (await postGithub(t, { event: "star", payload: { action: "deleted", starred_at: null } })).body.delivery;

      // Rows are kept 30 days: nothing to delete, and the bodies' turn is scheduled.
      expect(await t.mutation(internal.inbox.maintenance.purgeExpired, {})).toBe(0);
      const scheduled = await t.run(async (ctx) =>
        (await ctx.db.system.query("_scheduled_functions").collect()).filter((job) => job.name === "inbox/maintenance:dropExpiredBodies"),
      );
      expect(scheduled).toHaveLength(1);
      expect(await t.mutation(internal.inbox.maintenance.dropExpiredBodies, scheduled[0]!.args[0] as never)).toBe(2);

      const { deliveries, bodies, blobs } = await stored(t);
      expect(deliveries.map((row) => row._id).sort()).toEqual([ids.processed, ids.ignored, ids.failed, ids.accepted, recent].sort());
      expect(bodies.map((body) => body.deliveryId).sort()).toEqual([ids.failed, ids.accepted, recent].sort());
      expect(blobs).toHaveLength(bodies.filter((body) => body.file !== undefined).length);
      expect(await attemptsOf(t, ids.processed)).toEqual(history);
      const refused = await expectConvexError(t.mutation(internal.ingest.replay, { deliveryId: ids.processed as Id<"webhook_deliveries"> }), "INVALID_ARGUMENT");
      expect(refused.message).toMatch(/body was dropped after DELIVERY_BODY_RETENTION_DAYS, so it cannot be processed again/);
      expect(await t.mutation(internal.ingest.replay, { deliveryId: ids.failed as Id<"webhook_deliveries"> })).toMatchObject({ previousStatus: "failed" });
    });

    test("operators' counts are read as whole numbers from 1 to 100; anything that is not a number reads the default", async () => {
      const t = newBackend();
      const { failed } = await oneOfEach(t);
      for (const failures of [Number.NaN, Number.POSITIVE_INFINITY, -5, 0.5, 1e9]) {
        expect((await t.query(internal.ingest.inboxStatus, { failures })).recentFailures.map(({ deliveryId }) => deliveryId)).toEqual([failed]);
        expect(await t.query(internal.ingest.attempts, { deliveryId: failed as Id<"webhook_deliveries">, limit: failures })).toHaveLength(1);
      }
      expect(await t.mutation(internal.ingest.replayFailed, { limit: Number.NaN })).toEqual([failed]);
    });

    test("inboxStatus shows the oldest failed delivery and its age", async () => {
      const t = newBackend();
      expect((await t.query(internal.ingest.inboxStatus, {})).oldestFailure).toBeNull();
      const { failed } = await oneOfEach(t);
      const receivedAt = (await deliveryRow(t, failed)).receivedAt;
      vi.setSystemTime(receivedAt + 3 * DAY);
      expect((await t.query(internal.ingest.inboxStatus, {})).oldestFailure).toEqual({
        deliveryId: failed,
        source: "github",
        receivedAt,
        ageMs: 3 * DAY,
      });
    });

    test("ingest:discard drops a failed delivery with its body and attempt history, and cancels its pending retry", async () => {
      const t = newBackend();
      // A failure of the moment: the retry is pending when the operator discards it.
      const { deliveryId, bytes } = await pushAwaitingRetry(t);
      await restoreBody(t, deliveryId, bytes);
      const before = await keptBodies(t);

      expect(await t.mutation(internal.ingest.discard, { deliveryId })).toEqual({
        deliveryId,
        source: "github",
        deliveryKey: expect.any(String),
        event: "push",
      });
      const left = await t.run(async (ctx) => ({
        delivery: await ctx.db.get("webhook_deliveries", deliveryId),
        attempts: await ctx.db.query("delivery_attempts").collect(),
      }));
      expect(left).toEqual({ delivery: null, attempts: [] });
      expect(await keptBodies(t)).toBe(before - 1);
      expect((await stored(t)).bodies).toEqual([]);
      expect(await pendingRuns(t)).toEqual([]);
      expect((await t.query(internal.ingest.inboxStatus, {})).counts).toContainEqual({ source: "github", status: "failed", count: 0 });
      await expectConvexError(t.mutation(internal.ingest.discard, { deliveryId }), "NOT_FOUND");
    });

    test("ingest:discard refuses a delivery that is not failed, and changes nothing", async () => {
      const t = newBackend();
      const ids = await oneOfEach(t);
      for (const status of ["processed", "ignored", "accepted"] as const) {
        await expectNothingWritten(t, async () => {
          const error = await expectConvexError(
            t.mutation(internal.ingest.discard, { deliveryId: ids[status] as Id<"webhook_deliveries"> }),
            "INVALID_ARGUMENT",
          );
          expect(error.message).toMatch(new RegExp(`is ${status}; only a failed delivery can be discarded`));
        });
      }
    });

    test("purge deletes each delivery's attempts with it, a bounded number per transaction", async () => {
      vi.stubEnv("DELIVERY_RETENTION_DAYS", "2");
      // At most 230 documents written per transaction: a history of 250 attempts cannot go in one.
      const t = newBackend({ documentsWritten: 230 });
      await orderOnFeatureBranch(t);
      const deliveryId = (await postGithub(t, { event: "push", payload: pushOf(FEATURE_BRANCH, 1) })).body.delivery as Id<"webhook_deliveries">;
      await runDue(t);
      for (let batch = 0; batch < 2; batch += 1) {
        await t.run(async (ctx) => {
          for (let i = 0; i < 125; i += 1) {
            await ctx.db.insert("delivery_attempts", { deliveryId, at: Date.now(), outcome: "replayed" });
          }
        });
      }
      vi.advanceTimersByTime(3 * DAY);
      expect(await t.mutation(internal.inbox.maintenance.purgeExpired, {})).toBe(1);
      expect(await t.run(async (ctx) => await ctx.db.get("webhook_deliveries", deliveryId))).toBeNull();
      await settle(t);
      expect(await t.run(async (ctx) => await ctx.db.query("delivery_attempts").collect())).toEqual([]);
    });

    test("purge writes each inbox counter once per batch, not once per delivery", async () => {
      vi.stubEnv("DELIVERY_RETENTION_DAYS", "2");
      // A batch of 100 deliveries deletes 100 rows and their 100 bodies' documents; the counters may add
      // a handful of writes, not 100 (the limit leaves the batch its budget's reserve, and no room for a
      // counter write per delivery).
      const t = newBackend({ documentsWritten: 250 });
      for (let i = 0; i < 100; i += 1) {
        await postGithub(t, { event: "star", payload: { action: "created", starred_at: null } });
      }
      vi.advanceTimersByTime(3 * DAY);
      expect(await t.mutation(internal.inbox.maintenance.purgeExpired, {})).toBe(100);
      const inbox = await t.query(internal.ingest.inboxStatus, {});
      expect(inbox.counts).toContainEqual({ source: "github", status: "ignored", count: 0 });
    });
  });
});

describe("rows recorded while bodies were hashed on receipt", () => {
  /** Turns a recorded delivery into a row as it was kept before: its body in file storage on the row, with its hash. */
  async function asHashedRow(t: Backend, deliveryId: unknown) {
    const bytes = new Uint8Array(await storedBody(t, deliveryId));
    const bodySha256 = await sha256Hex(bytes);
    await t.run(async (ctx) => {
      const id = deliveryId as Id<"webhook_deliveries">;
      for (const kept of await ctx.db.query("delivery_bodies").withIndex("by_deliveryId", (q) => q.eq("deliveryId", id)).collect()) {
        await ctx.db.delete("delivery_bodies", kept._id);
      }
      const body = await ctx.storage.store(new Blob([bytes], { type: "application/json" }));
      await ctx.db.patch("webhook_deliveries", id, { body, bodySha256, inline: undefined });
    });
  }

  test("a copy of an older row is still its duplicate, and another body under its key still a conflict", async () => {
    const t = newBackend();
    const delivery = { event: "push", payload: pushOf(FEATURE_BRANCH, 1), guid: "0b5a7c1e-2f3d-11ef-9a3d-0242ac120099" };
    const first = await postGithub(t, delivery);
    await settle(t);
    await asHashedRow(t, first.body.delivery);

    expect((await postGithub(t, delivery)).body).toEqual({ status: "duplicate", delivery: first.body.delivery });
    const other = await postGithub(t, { ...delivery, payload: pushOf(FEATURE_BRANCH, 2) });
    expect(other.body).toEqual({ status: "accepted", delivery: expect.any(String) });
    expect((await t.query(internal.ingest.inboxStatus, {})).conflicts).toContainEqual({ source: "github", count: 1 });
  });
});

describe("cost", () => {
  async function seedUnrelated(t: Backend, count: number) {
    const sessionId = await newSession(t, "bob");
    for (let start = 0; start < count; start += 250) {
      await t.run(async (ctx) => {
        for (let i = start; i < Math.min(count, start + 250); i += 1) {
          const now = Date.now();
          const workOrderId = await ctx.db.insert("work_orders", {
            sessionId: sessionId,
            workflowType: "codex-implement",
            prompt: `Unrelated task ${i}`,
            title: `Task ${i}`,
            status: i % 3 === 0 ? "succeeded" : "running",
            requestedBy: "bob",
            createdAt: now,
            updatedAt: now,
          });
          // Same repository, other branches; and other repositories.
          await ctx.db.insert("work_order_targets", {
            workOrderId,
            targetRepo: i % 2 === 0 ? "acme/widgets" : `acme/service-${i}`,
            targetBranch: `task-${i}`,
          });
          await ctx.db.insert("work_order_links", {
            workOrderId,
            kind: "commit",
            value: (1_000_000 + i).toString(16).padStart(40, "f"),
          });
        }
      });
    }
  }

  test("documents read for a push do not grow with unrelated work orders, targets and links", async () => {
    const costs: Record<number, { documentsRead: number; bytesRead: number }> = {};
    for (const unrelated of [10, 5000]) {
      const t = newBackend();
      await seedUnrelated(t, unrelated);
      const workOrderId = await orderOnFeatureBranch(t);
      const response = await postGithub(t, { event: "push", payload: pushOf(FEATURE_BRANCH, 5) });
      await settle(t);
      const processed = await deliveryRow(t, response.body.delivery);
      expect(processed.status).toBe("processed");
      expect(await linksOf(t, workOrderId)).toHaveLength(5);
      costs[unrelated] = processed.cost!;
    }
    console.log(`push of 5 commits: documents read with 10 unrelated = ${costs[10].documentsRead}, with 5000 = ${costs[5000].documentsRead}`);
    expect(costs[5000].documentsRead).toBe(costs[10].documentsRead);
  });
});
