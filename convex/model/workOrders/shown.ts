import type { Id } from "../../_generated/dataModel";
import type { MutationCtx } from "../../_generated/server";
import { syncCheckRun } from "../github/checkRuns";
import { syncCard } from "../slack/cards";

/*
 * Where people see a work order outside the API: its Slack card and its
 * GitHub check run (docs/architecture.md, "One order, two faces"). Both
 * are brought up to date here, from the same changes (a status entered, a
 * pull request linked, a retry), whichever side asked for the change; each
 * is rendered from the order when its outbox row is sent.
 */
export async function orderChanged(ctx: MutationCtx, order: { _id: Id<"work_orders">; sessionId: Id<"chat_sessions"> }) {
  await syncCard(ctx, order);
  await syncCheckRun(ctx, order);
}
