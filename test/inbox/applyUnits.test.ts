import { describe, expect, test } from "vitest";
import { budget } from "../../convex/model/platform/budget";
import { unit, type CommandOf, type Handler, type Run } from "../../convex/model/effects/units";

/*
 * How a command's handler counts its units of work is stated in the handler
 * itself, and the type checker holds it to that (this file fails
 * `npm run typecheck` when it no longer does): a new command cannot be added
 * with units counted one way by its handler and another by the engine.
 */

type AddLink = CommandOf<"addLink">;

describe("apply engine: each handler says how its work is counted", () => {
  test("a handler that enters a unit per order compiles only declared perOrder; one declared a single unit gets no Run to count with", () => {
    const perOrder: Handler<AddLink> = { units: "perOrder", apply: async (run) => void (await unit(run, budget({}))) };
    // @ts-expect-error a single-unit handler is handed what every handler acts with, not the Run that counts units
    const wrong: Handler<AddLink> = { units: "one", apply: async (run: Run) => void (await unit(run, budget({}))) };
    // @ts-expect-error a handler that does not say how its work is counted does not compile
    const unsaid: Handler<AddLink> = { apply: async () => {} };
    expect([perOrder.units, wrong.units, "units" in unsaid]).toEqual(["perOrder", "one", false]);
  });
});
