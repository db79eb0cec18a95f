import { v, type Infer } from "convex/values";
import { internal } from "../../_generated/api";
import type { Doc } from "../../_generated/dataModel";
import type { MutationCtx } from "../../_generated/server";
import { vInterpretation, type Interpretation } from "../../../src/commands";
import { sha256Hex } from "../../../src/hmac";
import { LIMITS } from "../../../src/limits";
import { truncate } from "../../../src/text";
import { applyCommands } from "../effects/applyCommands";
import type { Progress } from "../effects/units";
import { Applied } from "../effects/report";
import { addCosts, logCost, NO_COST, transactionCost } from "../platform/cost";
import { recordAttempt } from "./attempts";
import { updateDelivery } from "./deliveries";

/** An interpretation and its digest: progress over several transactions counts in the interpretation it was made in. */
export const vInterpreted = v.object({ interpretation: vInterpretation, digest: v.string() });
type Interpreted = Infer<typeof vInterpreted>;

/** The interpretation with its digest. */
export async function interpreted(interpretation: Interpretation): Promise<Interpreted> {
  return { interpretation, digest: await sha256Hex(new TextEncoder().encode(JSON.stringify(interpretation))) };
}

/**
 * Where this transaction of a delivery starts. Positions count in the
 * reading they were made in: a transaction that reads the body otherwise (a
 * deploy in between) starts its units again from the first, for the orders
 * the earlier transactions resolved (rows from before those were kept by
 * selector start afresh). Stored as `stepsDone`, the name rows of deliveries
 * under way already carry.
 */
function continuation(progress: Doc<"webhook_deliveries">["progress"], digest: string): Progress | null {
  if (progress?.stepsDone === undefined) {
    return null;
  }
  const { resolved, selectors, stepsDone, linksDone } = progress;
  if (progress.digest === digest) {
    return { resolved, selectors, unitsDone: stepsDone, linksDone };
  }
  return selectors === undefined ? null : { resolved, selectors, unitsDone: 0, linksDone: 0 };
}

/**
 * Applies a delivery's interpretation in the calling transaction and records
 * the attempt: the work of inbox/process.ts's completeDelivery, and of
 * inbox/receive.ts's record for a slash command, applied as it is recorded. Returns what applying it has to tell the
 * sender: the reason it was ignored, or what its commands told.
 */
export async function applyDelivery(
  ctx: MutationCtx,
  delivery: Doc<"webhook_deliveries">,
  { interpretation, digest }: Interpreted,
): Promise<string[]> {
  const deliveryId = delivery._id;
  const now = Date.now();
  const finished = {
    attempts: delivery.attempts + 1,
    nextAttemptAt: undefined,
    error: undefined,
    finishedAt: now,
  };
  if (interpretation.kind === "ignored") {
    await updateDelivery(ctx, delivery, {
      ...finished,
      status: "ignored",
      ignoredReason: truncate(interpretation.reason, LIMITS.reasonChars),
      progress: undefined,
    });
    await recordAttempt(ctx, deliveryId, { outcome: "ignored", detail: interpretation.reason });
    await logCost(ctx, "delivery");
    return [interpretation.reason];
  }
  const { progress } = delivery;
  // What earlier transactions applied stays recorded, even when their positions no longer count.
  const applied =
    progress === undefined
      ? new Applied()
      : new Applied({
          touched: delivery.touched ?? [],
          touchedCount: delivery.touchedCount ?? 0,
          skipped: delivery.skipped ?? [],
          skippedCount: progress.skippedCount,
        });
  const next = await applyCommands(
    ctx,
    interpretation,
    { source: delivery.source, actor: `${delivery.source}:${delivery.deliveryKey}` },
    applied,
    continuation(progress, digest),
  );
  const record = {
    touched: applied.touched,
    touchedCount: applied.touchedCount,
    skipped: applied.skipped.length > 0 ? applied.skipped : undefined,
  };
  // What applying cost, over every transaction of the delivery; the whole transaction, bookkeeping included, is logged below.
  const cost = addCosts(progress === undefined ? NO_COST : (delivery.cost ?? NO_COST), await transactionCost(ctx));
  if (next !== null) {
    // The next piece is a run of its own; recovery watches it like any other run.
    const scheduledRunId = await ctx.scheduler.runAfter(0, internal.inbox.process.processDelivery, { deliveryId });
    await updateDelivery(ctx, delivery, {
      ...record,
      cost,
      status: "accepted",
      error: undefined,
      nextAttemptAt: now,
      scheduledRunId,
      progress: {
        resolved: next.resolved,
        selectors: next.selectors,
        stepsDone: next.unitsDone,
        linksDone: next.linksDone,
        digest,
        skippedCount: applied.skippedCount,
      },
    });
  } else {
    // A delivery whose every effect was refused or had nothing to act on is ignored, with the reasons.
    const ignored = applied.touchedCount === 0 && applied.skippedCount > 0;
    await updateDelivery(ctx, delivery, {
      ...finished,
      ...record,
      cost,
      status: ignored ? "ignored" : "processed",
      ignoredReason: ignored ? truncate(applied.skipped.join(" "), LIMITS.reasonChars) : undefined,
      progress: undefined,
    });
    await recordAttempt(ctx, deliveryId, {
      outcome: ignored ? "ignored" : "processed",
      detail: ignored ? applied.skipped.join(" ") : undefined,
      cost,
      touched: applied.touched,
      touchedCount: applied.touchedCount,
    });
  }
  await logCost(ctx, "delivery");
  return applied.told;
}
