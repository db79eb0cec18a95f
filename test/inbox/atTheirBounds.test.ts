import { describe, expect, test, vi } from "vitest";
import { internal } from "../../convex/_generated/api";
import { insertDelivery } from "../../convex/model/inbox/deliveries";
import { newBackend, type Backend } from "../helpers/backend";
import { postGithub, pushOf } from "../helpers/senders/github";
import { linksOf } from "../helpers/records";
import { withFakeClock, settle } from "../helpers/clock";
import { BODY_PATHS, deliveryRow, onBodyPath } from "../helpers/inbox/deliveries";
import { FEATURE_BRANCH, MAX_ATTEMPTS, orderOnFeatureBranch } from "../helpers/inbox/runs";

/*
 * Deliveries at their documented bounds: the inbox's jobs read at most 8 MiB
 * a transaction, and a large push is applied over the transactions it needs.
 */

withFakeClock();

// Every promise of the inbox holds on both of its roads: a body kept as text and applied by a
// scheduled mutation, and one in file storage processed by an action (WEBHOOK_INLINE_BODY_BYTES lowered).
describe.each(BODY_PATHS)("$road", (road) => {
  onBodyPath(road);

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
});
