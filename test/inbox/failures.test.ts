import { describe, expect, test, vi } from "vitest";
import { internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import aliceRootAsMessage from "../../fixtures/slack/02-alice-root-as-message.json";
import { DELIVERY_RETRY } from "../../convex/model/inbox/deliveries";
import { delayRange } from "../../src/retry";
import { newBackend, type Backend } from "../helpers/backend";
import { EVENTS_SECRET, postEvent, statusChanged } from "../helpers/senders/events";
import { postGithub, pushOf } from "../helpers/senders/github";
import { linksOf } from "../helpers/records";
import { withFakeClock, settle, runDue } from "../helpers/clock";
import { configureSlackApp, postSlackEvent } from "../helpers/senders/slack";
import { BODY_PATHS, deliveryRow, onBodyPath, replaceBody, restoreBody } from "../helpers/inbox/deliveries";
import { attemptsOf, FEATURE_BRANCH, longestWait, MAX_ATTEMPTS, orderOnFeatureBranch, pendingRuns, pushAwaitingRetry } from "../helpers/inbox/runs";

/*
 * The inbox's failed runs: a failure leaves no partial writes, retries back
 * off until the attempts are spent, every attempt is kept, and a body that
 * no longer reads fails at once.
 */

withFakeClock();

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
});
