import { describe, expect, test } from "vitest";
import { api } from "../../convex/_generated/api";
import { newBackend } from "../helpers/backend";
import { asService, asUser } from "../helpers/callers";
import { expectConvexError } from "../helpers/assertions";
import { newSession, newWorkOrder, statusHistory } from "../helpers/records";

// The contract's machine, written out here independently of src/workOrders/status.ts.
const RANK = { draft: 0, submitted: 1, accepted: 2, running: 3, succeeded: 4, failed: 4, canceled: 4 } as const;
type Status = keyof typeof RANK;
const STATUSES = Object.keys(RANK) as Status[];
const TERMINAL = 4;

type Expected = "unchanged" | "changed" | "refused";

function expectedFor(caller: "service" | "user", from: Status, to: Status): Expected {
  if (from === to) return "unchanged";
  const forward = RANK[from] < TERMINAL && RANK[to] > RANK[from];
  if (!forward) return "refused";
  if (caller === "service") return "changed";
  const userMay = (from === "draft" && to === "submitted") || to === "canceled";
  return userMay ? "changed" : "refused";
}

const pairs = STATUSES.flatMap((from) => STATUSES.map((to) => [from, to] as const));

/** What a caller sees of each outcome, as the test's name says it. */
const SEEN: Record<Expected, string> = {
  changed: "moves the order and records one history row",
  unchanged: "answers changed: false and records nothing",
  refused: "is refused with INVALID_TRANSITION and changes nothing",
};

describe.each(["service", "user"] as const)("status machine, called by a %s", (caller) => {
  test.each(pairs.map(([from, to]) => [from, to, SEEN[expectedFor(caller, from, to)]] as const))("%s -> %s %s", async (from, to) => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const workOrderId = await newWorkOrder(t, sessionId, { status: "draft" });
    // Arrange: put the order in `from` as if it had got there earlier.
    await t.run(async (ctx) => await ctx.db.patch("work_orders", workOrderId, { status: from }));
    const historyBefore = await statusHistory(t, workOrderId);
    const as = caller === "service" ? asService(t) : asUser(t, "alice");
    const call = as.mutation(api.workOrders.updateStatus, { workOrderId, status: to, reason: `test ${from}->${to}` });

    const expected = expectedFor(caller, from, to);
    if (expected === "refused") {
      const error = await expectConvexError(call, "INVALID_TRANSITION");
      expect(error).toMatchObject({ from, to });
    } else {
      expect(await call).toEqual({ status: to, changed: expected === "changed" });
    }

    const after = await as.query(api.workOrders.get, { workOrderId });
    expect(after!.status).toBe(expected === "changed" ? to : from);
    const history = await statusHistory(t, workOrderId);
    if (expected === "changed") {
      expect(history.slice(0, -1)).toEqual(historyBefore);
      expect(history.at(-1)).toMatchObject({
        workOrderId,
        from,
        to,
        source: "api",
        reason: `test ${from}->${to}`,
        actor: caller === "service" ? expect.stringMatching(/^service:/) : "user:alice",
      });
      expect(history.at(-1)!.changedAt).toBe(after!.updatedAt);
    } else {
      expect(history).toEqual(historyBefore);
    }
  });
});

test("the oracle covers the contract: 7 x 7 pairs each, with every outcome present", () => {
  expect(pairs).toHaveLength(49);
  for (const caller of ["service", "user"] as const) {
    const outcomes = new Set(pairs.map(([from, to]) => expectedFor(caller, from, to)));
    expect(outcomes).toEqual(new Set(["unchanged", "changed", "refused"]));
  }
  expect(pairs.filter(([from, to]) => expectedFor("user", from, to) === "changed")).toEqual([
    ["draft", "submitted"],
    ["draft", "canceled"],
    ["submitted", "canceled"],
    ["accepted", "canceled"],
    ["running", "canceled"],
  ]);
});
