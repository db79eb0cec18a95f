import { describe, expect, test, vi } from "vitest";
import { api } from "../../convex/_generated/api";
import { newBackend, type Backend } from "../helpers/backend";
import { asService } from "../helpers/callers";
import { accepted, linkAdded, onEventsEndpoint, postEvent, statusChanged, type EventEnvelope } from "../helpers/senders/events";
import { domainTables } from "../helpers/assertions";
import { newSession, newWorkOrder, statusHistory, orderOf } from "../helpers/records";
import { settle } from "../helpers/clock";
import { deliveryRow, keptBodiesOf, stored } from "../helpers/inbox/deliveries";

/*
 * POST /webhooks/events (docs/contract.md#standard-webhooks-webhooksevents-body--type-timestamp-data-):
 * a workflow runner's status changes and links, as a user sees them on the
 * work order, whatever order and however often they arrive.
 */

onEventsEndpoint();

/** A work order the runner has picked up: submitted, then accepted by Jangar's server. */
async function acceptedOrder(t: Backend) {
  const sessionId = await newSession(t, "alice");
  const workOrderId = await newWorkOrder(t, sessionId);
  await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: "accepted" });
  return workOrderId;
}

describe("a workflow runner's events for one work order", () => {
  test("in order, accepted -> running -> succeeded are recorded with source events, the reasons sent and the delivery as actor", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const workOrderId = await newWorkOrder(t, sessionId);
    const steps = [
      ["accepted", "Picked up by runner jangar-runner-7"],
      ["running", "Workflow codex-implement started"],
      ["succeeded", "All checks passed"],
    ] as const;
    const ids: string[] = [];
    for (const [status, reason] of steps) {
      vi.advanceTimersByTime(1000);
      const response = await postEvent(t, { event: statusChanged(workOrderId, status, reason) });
      expect(response).toMatchObject({ status: 200, body: accepted });
      ids.push(response.id);
      await settle(t);
      expect(await deliveryRow(t, response.body.delivery)).toMatchObject({
        source: "events",
        event: "work_order.status.changed",
        status: "processed",
        touchedCount: 1,
      });
    }

    expect((await orderOf(t, workOrderId)).status).toBe("succeeded");
    expect(await statusHistory(t, workOrderId)).toMatchObject([
      { from: null, to: "submitted", source: "api" },
      { from: "submitted", to: "accepted", source: "events", reason: steps[0][1], actor: `events:${ids[0]}` },
      { from: "accepted", to: "running", source: "events", reason: steps[1][1], actor: `events:${ids[1]}` },
      { from: "running", to: "succeeded", source: "events", reason: steps[2][1], actor: `events:${ids[2]}` },
    ]);
  });

  test("out of order and each sent twice (same webhook-id, then a retry under a new id): succeeded, each link once, no backward move, the late running ignored", async () => {
    const t = newBackend();
    const workOrderId = await acceptedOrder(t);
    const prUrl = "https://github.com/Acme/Widgets/pull/42";
    const sha = "9F2C4E1B7A3D5C6E8F0A1B2C3D4E5F60718293A4";
    // The order the runner's events arrive in: the end first, the start last.
    const arrivals: EventEnvelope[] = [
      statusChanged(workOrderId, "succeeded", "All checks passed"),
      linkAdded(workOrderId, "pr", prUrl),
      linkAdded(workOrderId, "commit", sha),
      statusChanged(workOrderId, "running", "Workflow codex-implement started"),
    ];

    const outcomes = [];
    for (const sent of arrivals) {
      vi.advanceTimersByTime(1000);
      const first = await postEvent(t, { event: sent });
      const redelivered = await postEvent(t, { event: sent, id: first.id });
      await settle(t);
      const retried = await postEvent(t, { event: sent });
      await settle(t);
      expect(first).toMatchObject({ status: 200, body: accepted });
      expect(redelivered).toEqual({
        id: first.id,
        status: 200,
        body: { status: "duplicate", delivery: first.body.delivery },
      });
      expect(retried).toMatchObject({ status: 200, body: accepted });
      expect(retried.body.delivery).not.toBe(first.body.delivery);
      outcomes.push([await deliveryRow(t, first.body.delivery), await deliveryRow(t, retried.body.delivery)]);
    }

    const order = await orderOf(t, workOrderId);
    expect(order.status).toBe("succeeded");
    expect(order.links).toEqual([
      { kind: "pr", value: "https://github.com/acme/widgets/pull/42" },
      { kind: "commit", value: sha.toLowerCase() },
    ]);
    const history = await statusHistory(t, workOrderId);
    expect(history.map(({ from, to, source }) => ({ from, to, source }))).toEqual([
      { from: null, to: "submitted", source: "api" },
      { from: "submitted", to: "accepted", source: "api" },
      { from: "accepted", to: "succeeded", source: "events" },
    ]);

    const [succeeded, pr, commit, running] = outcomes;
    // The first copy of each effect did it; the retry under a new id found it done.
    for (const [first, retry] of [succeeded, pr, commit]) {
      expect(first).toMatchObject({ status: "processed", touchedCount: 1 });
      expect(retry).toMatchObject({ status: "processed", touchedCount: 0 });
      expect(retry.ignoredReason).toBeUndefined();
    }
    // A status the machine refuses is a recorded, explained outcome, not a failure to retry.
    for (const late of running) {
      expect(late).toMatchObject({
        status: "ignored",
        attempts: 1,
        touchedCount: 0,
        ignoredReason: expect.stringMatching(/status running not applied: .*already succeeded.*cannot become running/),
        skipped: [expect.stringContaining(workOrderId)],
      });
      expect(late.error).toBeUndefined();
    }
    const { deliveries } = await stored(t);
    expect(deliveries).toHaveLength(8);
    expect((await keptBodiesOf(t)).map((body) => body.deliveryId).sort()).toEqual(deliveries.map((row) => row._id).sort());
  });

  test("a work_order event for an order that does not exist is ignored with a reason naming it, and writes nothing", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const gone = await newWorkOrder(t, sessionId);
    await t.run(async (ctx) => {
      await ctx.db.delete("work_orders", gone);
    });
    const before = await domainTables(t);
    for (const workOrderId of [gone, "wo-2026-0042"]) {
      for (const sent of [
        statusChanged(workOrderId, "running"),
        linkAdded(workOrderId, "pr", "https://github.com/acme/widgets/pull/42"),
      ]) {
        const response = await postEvent(t, { event: sent });
        expect(response).toMatchObject({ status: 200, body: accepted });
        await settle(t);
        expect(await deliveryRow(t, response.body.delivery)).toMatchObject({
          status: "ignored",
          ignoredReason: `No work order ${workOrderId}.`,
          touchedCount: 0,
        });
      }
    }
    expect(await domainTables(t)).toEqual(before);
  });
});
