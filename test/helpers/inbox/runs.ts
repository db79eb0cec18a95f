import { expect } from "vitest";
import { internal } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import { DELIVERY_RETRY } from "../../../convex/model/inbox/deliveries";
import { delayRange } from "../../../src/retry";
import type { Backend } from "../backend";
import { runDue } from "../clock";
import { PROCESSING_RUNS, replaceBody } from "./deliveries";
import { newSession } from "../records";
import { postGithub, pushOf } from "../senders/github";
import { liveOrder } from "../orders/crowds";

/** A delivery's processing runs, retries and attempts, as the inbox's specs arrange and read them. */

// The inbox's retry policy: its attempts, and the longest wait after attempt n (jitter only shortens it).
export const MAX_ATTEMPTS = DELIVERY_RETRY.maxAttempts!;
export const longestWait = (attemptsMade: number) => delayRange(DELIVERY_RETRY, attemptsMade).maxMs;

/** The branch the specs' pushes go to. */
export const FEATURE_BRANCH = { targetRepo: "acme/widgets", targetBranch: "feature/sso" };

/** A live work order of alice's that targets FEATURE_BRANCH. */
export async function orderOnFeatureBranch(t: Backend) {
  return await liveOrder(t, await newSession(t, "alice"), FEATURE_BRANCH);
}

/** A push to the order's branch whose first run failed (its stored body gone) and whose retry waits; the body's bytes, to put back. */
export async function pushAwaitingRetry(t: Backend) {
  await orderOnFeatureBranch(t);
  const deliveryId = (await postGithub(t, { event: "push", payload: pushOf(FEATURE_BRANCH, 1) })).body.delivery as Id<"webhook_deliveries">;
  const bytes = await replaceBody(t, deliveryId, null);
  await runDue(t);
  expect(await pendingRuns(t)).toHaveLength(1);
  return { deliveryId, bytes };
}

/** A delivery's attempt history, as an operator reads it. */
export async function attemptsOf(t: Backend, deliveryId: unknown) {
  return await t.query(internal.ingest.attempts, { deliveryId: deliveryId as Id<"webhook_deliveries"> });
}

/** The processing runs of deliveries that are waiting to start. */
export async function pendingRuns(t: Backend) {
  return await t.run(async (ctx) =>
    (await ctx.db.system.query("_scheduled_functions").collect()).filter(
      (job) => PROCESSING_RUNS.includes(job.name) && job.state.kind === "pending",
    ),
  );
}

/** Sets a scheduled run's state as Convex's scheduler does (convex-test lets a test write its system table). */
export async function setRunState(t: Backend, runId: Id<"_scheduled_functions">, state: { kind: string; error?: string }) {
  await t.run(async (ctx) => {
    const db = ctx.db as unknown as { patch: (table: string, id: string, fields: object) => Promise<void> };
    await db.patch("_scheduled_functions", runId, { state });
  });
}
