import { describe, expect, test, vi } from "vitest";
import { internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { insertDelivery } from "../../convex/model/inbox/deliveries";
import { newBackend, type Backend } from "../helpers/backend";
import { postGithub, pushOf } from "../helpers/senders/github";
import { expectConvexError, expectNothingWritten } from "../helpers/assertions";
import { withFakeClock, settle, runDue } from "../helpers/clock";
import { BODY_PATHS, deliveryRow, keptBodies, onBodyPath, replaceBody, restoreBody, stored } from "../helpers/inbox/deliveries";
import { attemptsOf, FEATURE_BRANCH, orderOnFeatureBranch, pendingRuns, pushAwaitingRetry } from "../helpers/inbox/runs";

/*
 * Retention: finished deliveries and their bodies are purged in batches, and
 * failed ones wait for an operator, who may replay or discard them.
 */

withFakeClock();

// Every promise of the inbox holds on both of its roads: a body kept as text and applied by a
// scheduled mutation, and one in file storage processed by an action (WEBHOOK_INLINE_BODY_BYTES lowered).
describe.each(BODY_PATHS)("$road", (road) => {
  onBodyPath(road);

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

    test("a DELIVERY_BODY_RETENTION_DAYS longer than DELIVERY_RETENTION_DAYS holds back only the dropping of bodies: expired deliveries are purged, and the reason is logged once, naming both", async () => {
      vi.stubEnv("DELIVERY_RETENTION_DAYS", "2");
      vi.stubEnv("DELIVERY_BODY_RETENTION_DAYS", "3");
      const errors: string[] = [];
      vi.spyOn(console, "error").mockImplementation((line: unknown) => void errors.push(String(line)));
      const t = newBackend();
      await postGithub(t, { event: "star", payload: { action: "created", starred_at: null } });
      vi.advanceTimersByTime(4 * 24 * 60 * 60 * 1000);
      const recent = (await postGithub(t, { event: "star", payload: { action: "deleted", starred_at: null } })).body.delivery;

      expect(await t.mutation(internal.inbox.maintenance.purgeExpired, {})).toBe(1);
      const { deliveries, bodies } = await stored(t);
      expect(deliveries.map((row) => row._id)).toEqual([recent]);
      expect(bodies.map((body) => body.deliveryId)).toEqual([recent]);
      expect(errors).toEqual([
        expect.stringMatching(/no bodies dropped.*DELIVERY_BODY_RETENTION_DAYS is 3: longer than DELIVERY_RETENTION_DAYS.*\(DELIVERY_RETENTION_DAYS is 2\)/),
      ]);
      expect(await t.run(async (ctx) => await ctx.db.system.query("_scheduled_functions").collect())).not.toContainEqual(
        expect.objectContaining({ name: "inbox/maintenance:dropExpiredBodies" }),
      );
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

    test("each hour's drop of bodies starts where the last one stopped: a failed delivery's body is read once, and goes with its row", async () => {
      vi.stubEnv("DELIVERY_BODY_RETENTION_DAYS", "2");
      const logged: string[] = [];
      vi.spyOn(console, "log").mockImplementation((line: unknown) => void logged.push(String(line)));
      const t = newBackend();
      const ids = await oneOfEach(t);
      /** The hourly cron, then the drop it scheduled (the accepted delivery's run left waiting); what the drop looked at, from its log lines. */
      async function hourlyRun() {
        logged.length = 0;
        await t.mutation(internal.inbox.maintenance.purgeExpired, {});
        const drop = await t.run(async (ctx) =>
          (await ctx.db.system.query("_scheduled_functions").order("desc").collect()).find((job) => job.name === "inbox/maintenance:dropExpiredBodies"),
        );
        if (drop !== undefined) {
          await t.mutation(internal.inbox.maintenance.dropExpiredBodies, drop.args[0] as never);
          await t.run(async (ctx) => await ctx.scheduler.cancel(drop._id));
        }
        return logged.filter((line) => line.includes("expired bodies looked at")).map((line) => /dropped (\d+) of (\d+)/.exec(line)!.slice(1).map(Number));
      }
      vi.setSystemTime(Date.now() + 3 * DAY);
      expect(await hourlyRun()).toEqual([[2, 4]]);
      vi.setSystemTime(Date.now() + 60 * 60 * 1000);
      // The failed and accepted deliveries' bodies, passed over an hour ago, are not read again.
      expect(await hourlyRun()).toEqual([]);
      expect((await stored(t)).bodies.map((body) => body.deliveryId).sort()).toEqual([ids.failed, ids.accepted].sort());

      // The failed one, discarded, and the accepted one, processed at last: their bodies go with their rows.
      await t.mutation(internal.ingest.discard, { deliveryId: ids.failed as Id<"webhook_deliveries"> });
      await runDue(t);
      expect((await deliveryRow(t, ids.accepted)).status).toBe("processed");
      vi.setSystemTime(Date.now() + 30 * DAY);
      await hourlyRun();
      expect(await stored(t)).toMatchObject({ deliveries: [], bodies: [], blobs: [] });
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
