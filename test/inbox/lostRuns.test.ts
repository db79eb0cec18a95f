import { describe, expect, test, vi } from "vitest";
import { internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { DELIVERY_TALLY_SHARDS } from "../../convex/model/inbox/deliveries";
import { newBackend, type Backend } from "../helpers/backend";
import { postGithub, pushOf } from "../helpers/senders/github";
import { linksOf } from "../helpers/records";
import { withFakeClock, settle, runDue } from "../helpers/clock";
import { BODY_PATHS, deliveryRow, onBodyPath, processingRun, replaceBody, restoreBody } from "../helpers/inbox/deliveries";
import { attemptsOf, FEATURE_BRANCH, MAX_ATTEMPTS, orderOnFeatureBranch, pendingRuns, setRunState } from "../helpers/inbox/runs";

/*
 * The inbox's lost runs: a run that never finished is found by the recovery
 * cron, counted as an attempt, and recovered page by page.
 */

withFakeClock();

// Every promise of the inbox holds on both of its roads: a body kept as text and applied by a
// scheduled mutation, and one in file storage processed by an action (WEBHOOK_INLINE_BODY_BYTES lowered).
describe.each(BODY_PATHS)("$road", (road) => {
  onBodyPath(road);

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
});
