import { describe, expect, test } from "vitest";
import { internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { newBackend, type Backend } from "../helpers/backend";
import { postGithub, pushOf } from "../helpers/senders/github";
import { expectConvexError, expectNothingWritten } from "../helpers/assertions";
import { linksOf } from "../helpers/records";
import { withFakeClock, settle, runDue } from "../helpers/clock";
import { BODY_PATHS, deliveryRow, onBodyPath, processingRun, replaceBody } from "../helpers/inbox/deliveries";
import { attemptsOf, FEATURE_BRANCH, orderOnFeatureBranch, pendingRuns, pushAwaitingRetry, setRunState } from "../helpers/inbox/runs";

/*
 * One live run per delivery: a replay or a recorded failure never starts a
 * second run of a delivery beside one that is waiting or running.
 */

withFakeClock();

// Every promise of the inbox holds on both of its roads: a body kept as text and applied by a
// scheduled mutation, and one in file storage processed by an action (WEBHOOK_INLINE_BODY_BYTES lowered).
describe.each(BODY_PATHS)("$road", (road) => {
  onBodyPath(road);

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
});
