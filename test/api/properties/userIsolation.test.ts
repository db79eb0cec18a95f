/**
 * Users are isolated: random calls by random users never reach another
 * user's records.
 * A property (fast-check): it prints its seed and number of runs; rerun a
 * failure with FC_SEED=<seed> (FC_NUM_RUNS for more runs).
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { api } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import { newBackend } from "../../helpers/backend";
import { asUser } from "../../helpers/callers";
import { snapshotTables } from "../../helpers/assertions";
import { newSession, newWorkOrder } from "../../helpers/records";
import { withEverySenderConfigured } from "../../helpers/senders/all";
import { check, runs } from "../../helpers/fastCheck";

withEverySenderConfigured();

describe("random calls by random users never reach another user's records", () => {
  const USERS = ["alice", "bob", "carol"] as const;
  type User = (typeof USERS)[number];

  const call = fc.record({
    by: fc.constantFrom(...USERS),
    on: fc.nat(),
    kind: fc.constantFrom(
      "createSession",
      "getSession",
      "listSessionsNamingOwner",
      "append",
      "listMessages",
      "createOrder",
      "getOrder",
      "listOrders",
      "cancelOrder",
      "upsertArg",
      "upsertTarget",
      "addLink",
    ),
  });

  test("reads of others' records are empty, writes are NOT_FOUND and change nothing", async () => {
    await check(
      "cross-user calls",
      fc.asyncProperty(fc.array(call, { minLength: 1, maxLength: 30 }), async (calls) => {
        const t = newBackend();
        const sessions: { id: Id<"chat_sessions">; owner: User }[] = [];
        const orders: { id: Id<"work_orders">; owner: User }[] = [];
        for (const user of USERS) {
          const id = await newSession(t, user, `${user}'s first session`);
          sessions.push({ id, owner: user });
          orders.push({ id: await newWorkOrder(t, id), owner: user });
        }
        for (const { by, on, kind } of calls) {
          const as = asUser(t, by);
          const session = sessions[on % sessions.length];
          const order = orders[on % orders.length];
          const owner = ["createOrder", "append", "listMessages", "getSession", "listOrders", "listSessionsNamingOwner"].includes(kind) ? session.owner : order.owner;
          const mine = owner === by;
          const before = await snapshotTables(t);
          const attempt = async () => {
            switch (kind) {
              case "createSession":
                sessions.push({ id: await as.mutation(api.chatSessions.create, { title: "new" }), owner: by });
                return "wrote";
              case "getSession":
                return await as.query(api.chatSessions.get, { sessionId: session.id });
              case "listSessionsNamingOwner":
                return (await as.query(api.chatSessions.list, { userId: session.owner, paginationOpts: { numItems: 50, cursor: null } })).page;
              case "append":
                await as.mutation(api.chatMessages.append, { sessionId: session.id, role: "user", content: `${by} was here` });
                return "wrote";
              case "listMessages":
                return (await as.query(api.chatMessages.listBySession, { sessionId: session.id, paginationOpts: { numItems: 50, cursor: null } })).page;
              case "createOrder":
                orders.push({
                  id: await as.mutation(api.workOrders.create, { sessionId: session.id, workflowType: "codex", prompt: "p", title: "t" }),
                  owner: session.owner,
                });
                return "wrote";
              case "getOrder":
                return await as.query(api.workOrders.get, { workOrderId: order.id });
              case "listOrders":
                return (await as.query(api.workOrders.listBySession, { sessionId: session.id, paginationOpts: { numItems: 50, cursor: null } })).page;
              case "cancelOrder":
                await as.mutation(api.workOrders.updateStatus, { workOrderId: order.id, status: "canceled" });
                return "wrote";
              case "upsertArg":
                await as.mutation(api.workOrderArgs.upsert, { workOrderId: order.id, name: "by", value: by });
                return "wrote";
              case "upsertTarget":
                await as.mutation(api.workOrderTargets.upsert, { workOrderId: order.id, targetRepo: `${by}/repo`, targetBranch: "main" });
                return "wrote";
              case "addLink":
                await as.mutation(api.workOrderLinks.add, { workOrderId: order.id, kind: "github_issue", value: `https://github.com/${by}/repo/issues/1` });
                return "wrote";
            }
          };
          const outcome = await attempt().then(
            (value) => ({ ok: true as const, value }),
            (error: { data?: { code?: string } }) => ({ ok: false as const, code: error.data?.code }),
          );
          if (kind === "createSession" || mine) {
            // One's own records: never NOT_FOUND (a refused transition is fine).
            if (!outcome.ok) expect(outcome.code).toBe("INVALID_TRANSITION");
            if (outcome.ok && outcome.value !== "wrote") expect(outcome.value).not.toEqual(null);
          } else if (outcome.ok) {
            // Someone else's: reads see nothing.
            expect(outcome.value === null || (Array.isArray(outcome.value) && outcome.value.length === 0), `${by} ${kind} of ${owner}'s`).toBe(true);
          } else {
            // Naming another user is a mistake the caller can fix, not a missing record.
            expect(outcome.code, `${by} ${kind} of ${owner}'s`).toBe(kind === "listSessionsNamingOwner" ? "INVALID_ARGUMENT" : "NOT_FOUND");
          }
          if (!outcome.ok) {
            expect(await snapshotTables(t)).toEqual(before);
          }
        }
      }),
      runs(40),
    );
  });
});
