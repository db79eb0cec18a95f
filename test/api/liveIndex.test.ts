/**
 * The derived indexes of live work orders (work_order_live_targets,
 * work_order_live_links, work_order_live_requesters) say exactly what the
 * orders' status, requester, target and links say, whatever sequence of changes led there.
 *
 * The property test prints its seed; rerun a failure with
 * `FC_SEED=<seed> npx vitest run test/api/liveIndex.test.ts`.
 */
import fc from "fast-check";
import { describe, expect, test, vi } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { newBackend } from "../helpers/backend";
import { asService } from "../helpers/callers";
import { liveOrder } from "../helpers/orders/crowds";
import { sha, postGithub } from "../helpers/senders/github";
import { settle, withFakeClock } from "../helpers/clock";
import { expectIndexTrue, tablesAndIndex } from "../helpers/orders/liveIndex";
import { newSession, newWorkOrder } from "../helpers/records";
import { check, runs } from "../helpers/fastCheck";


withFakeClock();

const TARGETS = [
  { targetRepo: "acme/api", targetBranch: "main" },
  { targetRepo: "https://github.com/Acme/API", targetBranch: "refs/heads/feature/sso" },
  { targetRepo: "/srv/repos/tools", targetBranch: "main" },
];
const STATUSES = ["draft", "submitted", "accepted", "running", "succeeded", "failed", "canceled"] as const;

/** One change to the orders, through the public functions; `order` picks one of those made so far. */
const change = fc.oneof(
  fc.record({ op: fc.constant("create" as const), status: fc.constantFrom("draft" as const, "submitted" as const), target: fc.option(fc.constantFrom(...TARGETS)) }),
  fc.record({ op: fc.constant("target" as const), order: fc.nat(), target: fc.constantFrom(...TARGETS) }),
  fc.record({
    op: fc.constant("link" as const),
    order: fc.nat(),
    kind: fc.constantFrom("pr" as const, "github_issue" as const, "commit" as const),
    number: fc.integer({ min: 1, max: 6 }),
  }),
  fc.record({ op: fc.constant("links" as const), order: fc.nat(), count: fc.integer({ min: 1, max: 24 }) }),
  fc.record({ op: fc.constant("status" as const), order: fc.nat(), status: fc.constantFrom(...STATUSES) }),
  fc.record({ op: fc.constant("merge" as const), number: fc.integer({ min: 1, max: 6 }) }),
);

describe("the live-order indexes", () => {
  test("after any sequence of creates, target changes, links, status changes and merges, they hold exactly the live orders' requesters, targets and first 20 issues and pull requests (property)", async () => {
    await check(
      "live index property",
      fc.asyncProperty(fc.array(change, { minLength: 1, maxLength: 14 }), async (changes) => {
        const t = newBackend();
        const service = asService(t);
        const sessionId = await newSession(t, "alice");
        const orders: Id<"work_orders">[] = [];
        const pick = (n: number) => (orders.length === 0 ? null : orders[n % orders.length]);
        for (const step of changes) {
          vi.advanceTimersByTime(1000);
          const workOrderId = "order" in step ? pick(step.order) : null;
          switch (step.op) {
            case "create":
              orders.push(await newWorkOrder(t, sessionId, { status: step.status, target: step.target ?? undefined }));
              break;
            case "target":
              if (workOrderId !== null) await service.mutation(api.workOrderTargets.upsert, { workOrderId, ...step.target });
              break;
            case "link":
              if (workOrderId !== null) {
                const value = step.kind === "commit" ? sha(step.number) : `https://github.com/acme/api/${step.kind === "pr" ? "pull" : "issues"}/${step.number}`;
                await service.mutation(api.workOrderLinks.add, { workOrderId, kind: step.kind, value });
              }
              break;
            case "links":
              for (let n = 1; workOrderId !== null && n <= step.count; n += 1) {
                await service.mutation(api.workOrderLinks.add, { workOrderId, kind: "pr", value: `https://github.com/acme/web/pull/${100 + n}` });
              }
              break;
            case "status":
              if (workOrderId !== null) {
                await service.mutation(api.workOrders.updateStatus, { workOrderId, status: step.status }).catch(() => null);
              }
              break;
            case "merge": {
              const url = `https://github.com/acme/api/pull/${step.number}`;
              await postGithub(t, {
                event: "pull_request",
                payload: {
                  action: "closed",
                  repository: { full_name: "acme/api" },
                  pull_request: { html_url: url, body: "", merged: true, merge_commit_sha: sha(99), head: { ref: "main", repo: { full_name: "acme/api" } } },
                },
              });
              await settle(t);
              break;
            }
          }
        }
        await expectIndexTrue(t);
      }),
      runs(30),
    );
  });

  test("an order linked to 25 pull requests is found by its first 20 while live, and by none once finished", async () => {
    const t = newBackend();
    const workOrderId = await liveOrder(t, await newSession(t, "alice"));
    for (let n = 1; n <= 25; n += 1) {
      await asService(t).mutation(api.workOrderLinks.add, { workOrderId, kind: "pr", value: `https://github.com/acme/api/pull/${n}` });
    }
    await expectIndexTrue(t);
    expect((await tablesAndIndex(t)).index.liveLinks).toHaveLength(20);
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: "canceled" });
    expect((await tablesAndIndex(t)).index).toEqual({ liveTargets: [], liveLinks: [], liveRequesters: [] });
  });
});
