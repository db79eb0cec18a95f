import { afterEach, beforeEach, expect, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import { FakeTemporal, TEMPORAL_URL } from "../../fakes/temporal";
import type { Backend } from "./backend";
import { asService } from "./callers";
import { settle } from "./clock";
import { newSession, newWorkOrder } from "./records";

/** The launcher and the reconciler against a fake Temporal: its settings, orders of a given age, one sweep. */

/**
 * For each test of the block: a fresh fake of Temporal's HTTP API standing in
 * for fetch (`.temporal`), and the deployment's Temporal settings pointing at
 * it; after each, the fake has refused nothing.
 */
export function withFakeTemporal(): { readonly temporal: FakeTemporal } {
  const fake = { temporal: new FakeTemporal({ namespace: "jangar-prod", apiKey: "tmprl_api_key" }) };
  beforeEach(() => {
    fake.temporal = new FakeTemporal({ namespace: "jangar-prod", apiKey: "tmprl_api_key" });
    vi.stubGlobal("fetch", fake.temporal.fetch);
    vi.stubEnv("TEMPORAL_HTTP_URL", TEMPORAL_URL);
    vi.stubEnv("TEMPORAL_NAMESPACE", "jangar-prod");
    vi.stubEnv("TEMPORAL_API_KEY", "tmprl_api_key");
  });
  afterEach(() => {
    expect(fake.temporal.violations).toEqual([]);
  });
  return fake;
}

/** A work order in `status`, last touched `ageMs` ago. */
export async function orderIn(t: Backend, status: "submitted" | "accepted" | "running", ageMs: number) {
  const workOrderId = await newWorkOrder(t, await newSession(t, "alice"));
  for (const next of ["accepted", "running"] as const) {
    if (status === "submitted" || (status === "accepted" && next === "running")) break;
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: next });
  }
  await t.run(async (ctx) => await ctx.db.patch("work_orders", workOrderId, { updatedAt: Date.now() - ageMs }));
  return workOrderId;
}

/** One reconciler run: the cron's function, then every run it schedules. */
export async function reconcile(t: Backend) {
  await t.mutation(internal.reconcile.sweep, {});
  await settle(t);
}
