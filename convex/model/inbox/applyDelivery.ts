import { v, type Infer } from "convex/values";
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx } from "../../_generated/server";
import { vInterpretation, type Interpretation } from "../../../src/commands";
import { sha256Hex } from "../../../src/hmac";
import { LIMITS } from "../../../src/limits";
import { truncate } from "../../../src/text";
import { applyCommands } from "../effects/applyCommands";
import type { Progress } from "../effects/units";
import { Applied } from "../effects/report";
import { addCosts, logCost, NO_COST, transactionCost } from "../platform/cost";
import { recordAttempt, type Attempt } from "./attempts";
import { keepBody, type IncomingBody } from "./bodies";
import { insertDelivery, scheduleProcessing, updateDelivery } from "./deliveries";

/** An interpretation and its digest: progress over several transactions counts in the interpretation it was made in. */
export const vInterpreted = v.object({ interpretation: vInterpretation, digest: v.string() });
export type Interpreted = Infer<typeof vInterpreted>;

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

type NewDelivery = Omit<Doc<"webhook_deliveries">, "_id" | "_creationTime" | "status" | "attempts">;
type DeliveryChange = Partial<Omit<Doc<"webhook_deliveries">, "_id" | "_creationTime" | "source">> & Pick<Doc<"webhook_deliveries">, "status">;
type Outcome = {
  change: DeliveryChange;
  // The attempt to record; none while the delivery continues in another transaction.
  attempt?: Omit<Attempt, "deliveryId" | "at">;
  // Whether the delivery continues in a new run, from the progress in `change`.
  continues: boolean;
  told: string[];
};

/**
 * Applies an interpretation in the calling transaction, and says how the
 * delivery row changes: finished (processed or ignored, with its attempt),
 * or still accepted with its progress when its work does not fit one
 * transaction. `delivery` is the row as it stands, or a row about to be
 * inserted (no attempts, no progress).
 */
async function applyInterpretation(
  ctx: MutationCtx,
  delivery: Pick<Doc<"webhook_deliveries">, "source" | "deliveryKey" | "attempts" | "progress" | "touched" | "touchedCount" | "skipped" | "cost">,
  { interpretation, digest }: Interpreted,
): Promise<Outcome> {
  const finished = {
    attempts: delivery.attempts + 1,
    nextAttemptAt: undefined,
    error: undefined,
    finishedAt: Date.now(),
  };
  if (interpretation.kind === "ignored") {
    return {
      change: { ...finished, status: "ignored", ignoredReason: truncate(interpretation.reason, LIMITS.reasonChars), progress: undefined },
      attempt: { outcome: "ignored", detail: interpretation.reason },
      continues: false,
      told: [interpretation.reason],
    };
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
  // What applying cost, over every transaction of the delivery; the whole transaction, bookkeeping included, is logged.
  const cost = addCosts(progress === undefined ? NO_COST : (delivery.cost ?? NO_COST), await transactionCost(ctx));
  if (next !== null) {
    return {
      change: {
        ...record,
        cost,
        status: "accepted",
        error: undefined,
        nextAttemptAt: Date.now(),
        progress: {
          resolved: next.resolved,
          selectors: next.selectors,
          stepsDone: next.unitsDone,
          linksDone: next.linksDone,
          digest,
          skippedCount: applied.skippedCount,
        },
      },
      continues: true,
      told: applied.told,
    };
  }
  // A delivery whose every effect was refused or had nothing to act on is ignored, with the reasons.
  const ignored = applied.touchedCount === 0 && applied.skippedCount > 0;
  return {
    change: {
      ...finished,
      ...record,
      cost,
      status: ignored ? "ignored" : "processed",
      ignoredReason: ignored ? truncate(applied.skipped.join(" "), LIMITS.reasonChars) : undefined,
      progress: undefined,
    },
    attempt: {
      outcome: ignored ? "ignored" : "processed",
      detail: ignored ? applied.skipped.join(" ") : undefined,
      cost,
      touched: applied.touched,
      touchedCount: applied.touchedCount,
    },
    continues: false,
    told: applied.told,
  };
}

/**
 * Applies a recorded delivery's interpretation in the calling transaction
 * and records the attempt (inbox/process.ts's completeDelivery). A delivery
 * whose work does not fit continues in a new run, which recovery watches
 * like any other. Returns what applying it has to tell the sender.
 */
export async function applyDelivery(ctx: MutationCtx, delivery: Doc<"webhook_deliveries">, interpreted: Interpreted): Promise<string[]> {
  const { change, attempt, continues, told } = await applyInterpretation(ctx, delivery, interpreted);
  const scheduledRunId = continues ? await scheduleProcessing(ctx, delivery) : undefined;
  await updateDelivery(ctx, delivery, scheduledRunId === undefined ? change : { ...change, scheduledRunId });
  if (attempt !== undefined) {
    await recordAttempt(ctx, delivery._id, attempt);
  }
  await logCost(ctx, "delivery");
  return told;
}

/**
 * Applies a delivery as it is recorded (inbox/receive.ts's record, for a
 * slash command), then inserts its row once, in the status applying left it
 * in, with its body and attempt: its effects and its record commit together,
 * or neither does.
 */
export async function applyNewDelivery(
  ctx: MutationCtx,
  delivery: NewDelivery,
  body: IncomingBody,
  interpreted: Interpreted,
): Promise<{ deliveryId: Id<"webhook_deliveries">; told: string[] }> {
  const { change, attempt, continues, told } = await applyInterpretation(ctx, { ...delivery, attempts: 0 }, interpreted);
  const deliveryId = await insertDelivery(ctx, { ...delivery, attempts: 0, ...change });
  await keepBody(ctx, deliveryId, body);
  if (continues) {
    await ctx.db.patch("webhook_deliveries", deliveryId, { scheduledRunId: await scheduleProcessing(ctx, { _id: deliveryId, inline: delivery.inline }) });
  }
  if (attempt !== undefined) {
    await recordAttempt(ctx, deliveryId, attempt);
  }
  await logCost(ctx, "delivery");
  return { deliveryId, told };
}
