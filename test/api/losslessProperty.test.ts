/**
 * workOrders:get is the lossless join of what was written about a work order,
 * for any sequence of writes: the property, checked against a model built
 * without the code under test (test/helpers/orders/model.ts).
 *
 * The property test prints its seed; rerun a failure with
 * `FC_SEED=<seed> npx vitest run test/api/losslessProperty.test.ts` (FC_NUM_RUNS for more runs).
 */
import fc from "fast-check";
import { describe, expect, test, vi } from "vitest";
import { api } from "../../convex/_generated/api";
import { newBackend } from "../helpers/backend";
import { asService, asUser } from "../helpers/callers";
import { check, runs } from "../helpers/fastCheck";
import { scenario, type Scenario, type Who } from "../helpers/orders/arbitraries";
import { byCodeUnits, expectedGet, sameConvexValue, START, TICK_MS, touch, twinOf, withClockAtStart, type ExpectedOrder } from "../helpers/orders/model";


withClockAtStart();

async function writeAndReadBack(input: Scenario) {
  const t = newBackend();
  let now = START;
  const tick = () => {
    now += TICK_MS;
    vi.setSystemTime(now);
    return now;
  };
  vi.setSystemTime(now);
  const caller = (by: Who) => (by === "owner" ? asUser(t, input.owner) : asService(t));

  const sessionId = await caller("owner").mutation(api.chatSessions.create, { title: "Lossless" });
  const orders: ExpectedOrder[] = [];
  for (const spec of input.orders) {
    const createdAt = tick();
    const requestedBy = spec.creator.who === "service" ? spec.creator.requestedBy : undefined;
    const workOrderId = await caller(spec.creator.who).mutation(api.workOrders.create, {
      sessionId,
      workflowType: spec.workflowType,
      prompt: spec.prompt,
      title: spec.title,
      status: spec.status,
      requestedBy,
      args: spec.args,
      target: spec.target?.sent,
    });
    orders.push({
      _id: workOrderId,
      sessionId,
      workflowType: spec.workflowType,
      prompt: spec.prompt,
      title: spec.title,
      status: spec.status ?? "submitted",
      requestedBy: requestedBy ?? input.owner,
      createdAt,
      updatedAt: createdAt,
      args: new Map(spec.args.map(({ name, value }) => [name, value])),
      argIds: new Map(),
      target: spec.target?.stored ?? null,
      targetId: null,
      links: [],
    });
  }

  for (const step of input.operations) {
    const at = tick();
    const order = orders[step.order % orders.length];
    const workOrderId = order._id;
    if (step.op === "upsertArg") {
      const existing = [...order.args.keys()].sort(byCodeUnits);
      const name =
        step.existingName && existing.length > 0
          ? existing[step.nameIndex % existing.length]
          : step.name;
      const previous = order.args.get(name);
      const value =
        (previous !== undefined && step.valueChoice === "again" ? previous : undefined) ??
        (previous !== undefined && step.valueChoice === "twin" ? twinOf(previous) : undefined) ??
        step.value;
      const argId = await caller(step.by).mutation(api.workOrderArgs.upsert, { workOrderId, name, value });
      expect(argId, `arg ${name} keeps its row`).toBe(order.argIds.get(name) ?? argId);
      order.argIds.set(name, argId);
      if (previous === undefined || !sameConvexValue(previous, value)) {
        order.args.set(name, value);
        touch(order, at);
      }
    } else if (step.op === "upsertTarget") {
      const targetId = await caller(step.by).mutation(api.workOrderTargets.upsert, {
        workOrderId,
        ...step.target.sent,
      });
      expect(targetId, "the target keeps its row").toBe(order.targetId ?? targetId);
      order.targetId = targetId;
      const stored = step.target.stored;
      if (
        order.target?.targetRepo !== stored.targetRepo ||
        order.target.targetBranch !== stored.targetBranch
      ) {
        order.target = stored;
        touch(order, at);
      }
    } else {
      const { kind, sent, stored } = step.link;
      const linkId = await caller(step.by).mutation(api.workOrderLinks.add, { workOrderId, kind, value: sent });
      const known = order.links.find((row) => row.kind === kind && row.value === stored);
      if (known === undefined) {
        expect(
          orders.flatMap((other) => other.links.map((row) => row.linkId)),
          `${kind} ${sent} is a new link`,
        ).not.toContain(linkId);
        order.links.push({ kind, value: stored, linkId });
        touch(order, at);
      } else {
        expect(linkId, `${kind} ${sent} was linked before`).toBe(known.linkId);
      }
    }
  }

  for (const order of orders) {
    const expected = expectedGet(order);
    expect(await caller("service").query(api.workOrders.get, { workOrderId: order._id })).toEqual(expected);
    expect(await caller("owner").query(api.workOrders.get, { workOrderId: order._id })).toEqual(expected);
  }
}

describe("workOrders:get returns exactly what was written", () => {
  test("for any sequence of creates, upserts and link adds, get returns the model's args, target, links and fields (property)", async () => {
    await check("lossless property", fc.asyncProperty(scenario, writeAndReadBack), runs(40));
  });
});
