/**
 * Whatever JSON a signed request carries, on any route, the answer is 200
 * or 400, never a 5xx.
 * A property (fast-check): it prints its seed and number of runs; rerun a
 * failure with FC_SEED=<seed> (FC_NUM_RUNS for more runs).
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { Id } from "../../../convex/_generated/dataModel";
import { STANDARD_EVENTS } from "../../../src/sources/events/standardEvents";
import { newBackend } from "../../helpers/backend";
import { postEvent, type EventEnvelope } from "../../helpers/senders/events";
import { postGithub } from "../../helpers/senders/github";
import { withEverySenderConfigured } from "../../helpers/senders/all";
import { postSlack } from "../../helpers/senders/slack";
import { settle } from "../../helpers/clock";
import { keptBodies } from "../../helpers/inbox/deliveries";
import { check, runs } from "../../helpers/fastCheck";

withEverySenderConfigured();

describe("any JSON body with a valid signature gets 200 or 400, never a 5xx", () => {
  const body = fc.oneof(
    fc.jsonValue({ maxDepth: 4 }),
    // Shapes close to what each sender sends, with random values inside.
    fc.record({ type: fc.constantFrom("event_callback", "url_verification", ...Object.keys(STANDARD_EVENTS)), data: fc.jsonValue({ maxDepth: 3 }), event: fc.jsonValue({ maxDepth: 3 }), event_id: fc.string(), team_id: fc.string(), challenge: fc.jsonValue({ maxDepth: 1 }) }, { requiredKeys: ["type"] }),
    fc.record({ action: fc.string(), ref: fc.jsonValue({ maxDepth: 1 }), commits: fc.jsonValue({ maxDepth: 3 }), repository: fc.jsonValue({ maxDepth: 2 }), pull_request: fc.jsonValue({ maxDepth: 3 }), issue: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: [] }),
  );

  test("on every route; stored exactly when answered 200", async () => {
    const t = newBackend();
    let posted = 0;
    await check(
      "signed JSON bodies",
      fc.asyncProperty(
        fc.constantFrom("github", "slack", "events"),
        fc.constantFrom("push", "pull_request", "issues", "ping", "star", "workflow_run"),
        body,
        async (route, githubEvent, payload) => {
          const response =
            route === "github"
              ? await postGithub(t, { event: githubEvent, payload })
              : route === "slack"
                ? await postSlack(t, { payload })
                : await postEvent(t, { event: payload as EventEnvelope });
          posted += 1;
          expect([200, 400], JSON.stringify(response.body)).toContain(response.status);
          const deliveries = await t.run(async (ctx) => (await ctx.db.query("webhook_deliveries").collect()).length);
          expect(await keptBodies(t)).toBe(deliveries);
          if (response.status === 200 && "delivery" in response.body) {
            expect(await t.run(async (ctx) => await ctx.db.get("webhook_deliveries", response.body.delivery as Id<"webhook_deliveries">))).not.toBeNull();
          }
          await settle(t);
        },
      ),
      runs(150),
    );
    expect(posted).toBeGreaterThan(0);
  });
});
