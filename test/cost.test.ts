// @vitest-environment node
/**
 * The cost benchmark (`npm run bench`; reduced in `npm test`): documents and
 * bytes each operation reads and writes, with few and with many unrelated
 * rows in every table. An operation whose documents read grow with
 * unrelated rows fails the run. docs/performance.md holds the figures.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { afterEach, beforeEach, expect, test, vi } from "vitest";
import { api, internal } from "../convex/_generated/api";
import type { Id } from "../convex/_generated/dataModel";
import { newBackend, type Backend } from "./backend";
import { asService, asUser } from "./callers";
import { postEvent, statusChanged, EVENTS_SECRET } from "./events";
import { postGithub, settle } from "./github";
import { postSlack, SLACK_SECRET } from "./slack";

const SIZES = (process.env.BENCH_SIZES ?? "100,2000").split(",").map(Number);
const STALE_ORDERS = Number(process.env.BENCH_STALE_ORDERS ?? 2000);
const HOUR = 60 * 60 * 1000;

type Cost = { documentsRead: number; documentsWritten: number; bytesRead: number; bytesWritten: number };

/** Every line logged since the last take: the public functions' `cost {...}` and the reconciler's page lines. */
let logged: string[] = [];
function takeLogged(): string[] {
  const lines = logged;
  logged = [];
  return lines;
}

beforeEach(() => {
  vi.useFakeTimers();
  logged = [];
  vi.spyOn(console, "log").mockImplementation((line: unknown) => {
    logged.push(String(line));
  });
  vi.stubEnv("JANGAR_LOG_COST", "1");
  vi.stubEnv("SLACK_SIGNING_SECRET", SLACK_SECRET);
  vi.stubEnv("EVENTS_WEBHOOK_SECRET", EVENTS_SECRET);
  vi.stubEnv("TEMPORAL_HTTP_URL", "");
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

/** `count` unrelated rows in every table, as other users' and other orders' data, last touched `ageMs` ago. */
async function seedUnrelated(t: Backend, count: number, ageMs = HOUR) {
  const body = await t.run(async (ctx) => await ctx.storage.store(new Blob(["{}"])));
  for (let start = 0; start < count; start += 500) {
    await t.run(async (ctx) => {
      const now = Date.now() - ageMs;
      for (let i = start; i < Math.min(count, start + 500); i += 1) {
        const sessionId = await ctx.db.insert("chat_sessions", { userId: `other-${i}`, title: `Other ${i}`, createdAt: now, updatedAt: now });
        const messageId = await ctx.db.insert("chat_messages", { sessionId, role: "user", content: `message ${i}`, createdAt: now });
        const workOrderId = await ctx.db.insert("work_orders", {
          sessionId,
          workflowType: "codex-implement",
          prompt: `Task ${i}`,
          title: `Task ${i}`,
          status: i % 2 === 0 ? "running" : "succeeded",
          requestedBy: `other-${i}`,
          createdAt: now,
          updatedAt: now,
        });
        await ctx.db.insert("work_order_args", { workOrderId, name: "attempt", value: i });
        await ctx.db.insert("work_order_targets", { workOrderId, targetRepo: i % 3 === 0 ? "acme/api" : `acme/other-${i}`, targetBranch: `task-${i}` });
        await ctx.db.insert("work_order_links", { workOrderId, kind: "commit", value: (i + 1).toString(16).padStart(40, "e") });
        await ctx.db.insert("work_order_status_changes", { workOrderId, from: null, to: "running", source: "api", actor: "service:other", changedAt: now });
        await ctx.db.insert("webhook_deliveries", {
          source: "github",
          deliveryKey: `other-${i}`,
          event: "push",
          contentType: "application/json",
          body,
          bodyBytes: 2,
          receivedAt: now,
          status: "processed",
          attempts: 1,
        });
        await ctx.db.insert("chat_message_origins", { externalId: `slack:T0OTHER:C0OTHER:${i}.0001`, messageId });
        await ctx.db.insert("slack_threads", { team: "T0OTHER", channel: "C0OTHER", threadTs: `${i}.0001`, sessionId });
      }
    });
  }
}

/** The cost a public function logged (JANGAR_LOG_COST) for the call `call` makes. */
async function costOfCall(call: () => Promise<unknown>): Promise<Cost> {
  takeLogged();
  await call();
  const costs = takeLogged().flatMap((line) => {
    const match = /^cost (\{.*\})$/.exec(line);
    return match ? [JSON.parse(match[1]) as Cost] : [];
  });
  expect(costs).toHaveLength(1);
  return costs[0];
}

async function costOfDelivery(t: Backend, post: () => Promise<{ body: Record<string, unknown> }>): Promise<Cost> {
  const { body } = await post();
  await settle(t);
  const delivery = await t.run(async (ctx) => await ctx.db.get("webhook_deliveries", body.delivery as Id<"webhook_deliveries">));
  expect(delivery?.status).toBe("processed");
  return delivery!.cost!;
}

const push = (commits: number) => ({
  ref: "refs/heads/feature/sso",
  deleted: false,
  repository: { full_name: "Acme/API" },
  commits: Array.from({ length: commits }, (_, i) => ({ id: (i + 1).toString(16).padStart(40, "a"), message: `Step ${i + 1}` })),
});

/** Every measured operation, on a backend with `unrelated` rows in every table. */
async function measure(unrelated: number): Promise<Map<string, Cost>> {
  const t = newBackend();
  await seedUnrelated(t, unrelated);
  const costs = new Map<string, Cost>();
  const alice = asUser(t, "alice");
  const service = asService(t);
  const firstPage = { numItems: 20, cursor: null };

  const sessionId = await alice.mutation(api.chatSessions.create, { title: "Setup" });
  for (let i = 0; i < 25; i += 1) {
    await alice.mutation(api.chatMessages.append, { sessionId, role: "user", content: `earlier ${i}` });
  }
  const target = { targetRepo: "acme/api", targetBranch: "feature/sso" };
  const args = [{ name: "model", value: "gpt-5" }, { name: "attempts", value: 3 }];

  costs.set("chatSessions:create", await costOfCall(() => alice.mutation(api.chatSessions.create, { title: "Deploy" })));
  costs.set("chatSessions:list (page of 20)", await costOfCall(() => alice.query(api.chatSessions.list, { paginationOpts: firstPage })));
  costs.set("chatSessions:get", await costOfCall(() => alice.query(api.chatSessions.get, { sessionId })));
  costs.set("chatMessages:append", await costOfCall(() => alice.mutation(api.chatMessages.append, { sessionId, role: "user", content: "Add SSO" })));
  costs.set("chatMessages:listBySession (page of 20)", await costOfCall(() => alice.query(api.chatMessages.listBySession, { sessionId, paginationOpts: firstPage })));
  let workOrderId: Id<"work_orders"> | undefined;
  costs.set(
    "workOrders:create (2 args, target)",
    await costOfCall(async () => {
      workOrderId = await alice.mutation(api.workOrders.create, { sessionId, workflowType: "codex-implement", prompt: "Add SSO", title: "SSO", args, target });
    }),
  );
  costs.set("workOrders:updateStatus", await costOfCall(() => service.mutation(api.workOrders.updateStatus, { workOrderId: workOrderId!, status: "accepted" })));
  costs.set("workOrders:listBySession", await costOfCall(() => alice.query(api.workOrders.listBySession, { sessionId, paginationOpts: firstPage })));
  costs.set("workOrderArgs:upsert (new name)", await costOfCall(() => alice.mutation(api.workOrderArgs.upsert, { workOrderId: workOrderId!, name: "effort", value: "high" })));
  costs.set("workOrderTargets:upsert", await costOfCall(() => alice.mutation(api.workOrderTargets.upsert, { workOrderId: workOrderId!, targetRepo: "Acme/API", targetBranch: "feature/sso-2" })));
  await alice.mutation(api.workOrderTargets.upsert, { workOrderId: workOrderId!, ...target });
  costs.set("workOrderLinks:add", await costOfCall(() => alice.mutation(api.workOrderLinks.add, { workOrderId: workOrderId!, kind: "github_issue", value: "https://github.com/acme/api/issues/7" })));
  costs.set("workOrders:get (3 args, target, 1 link)", await costOfCall(() => alice.query(api.workOrders.get, { workOrderId: workOrderId! })));
  await service.mutation(api.workOrders.updateStatus, { workOrderId: workOrderId!, status: "running" });

  costs.set("GitHub push (5 commits, 1 order)", await costOfDelivery(t, () => postGithub(t, { event: "push", payload: push(5) })));
  costs.set(
    "GitHub pull_request opened (1 order)",
    await costOfDelivery(t, () =>
      postGithub(t, {
        event: "pull_request",
        payload: {
          action: "opened",
          repository: { full_name: "Acme/API" },
          pull_request: { html_url: "https://github.com/Acme/API/pull/12", body: "Adds SSO.", merged: false, merge_commit_sha: null, head: { ref: "feature/sso", repo: { full_name: "Acme/API" } } },
        },
      }),
    ),
  );
  costs.set(
    "GitHub issues edited (linked order)",
    await costOfDelivery(t, () =>
      postGithub(t, {
        event: "issues",
        payload: { action: "edited", repository: { full_name: "Acme/API" }, issue: { html_url: "https://github.com/Acme/API/issues/7", body: "SSO fails" } },
      }),
    ),
  );

  const now = Math.floor(Date.now() / 1000);
  const slack = (eventId: string, event: Record<string, unknown>) =>
    postSlack(t, { payload: { type: "event_callback", team_id: "T0ACME", event_id: eventId, event_time: now, event: { channel: "C0AB1", ...event } } });
  await slack("Ev0MENTION", { type: "app_mention", user: "U01ALICE", text: "<@U0JANGAR> fix SSO", ts: `${now}.000100` });
  await settle(t);
  costs.set(
    "Slack message in a bound thread",
    await costOfDelivery(t, () => slack("Ev0REPLY", { type: "message", user: "U02BOB", text: "same here", ts: `${now}.000200`, thread_ts: `${now}.000100` })),
  );
  costs.set(
    "events work_order.status.changed",
    await costOfDelivery(t, () => postEvent(t, { event: statusChanged(workOrderId!, "succeeded", "checks passed") })),
  );
  return costs;
}

/** The reconciler (no Temporal) over `stale` stale running orders among as many finished ones: its pages and the costliest. */
async function reconcilerPages(stale: number): Promise<{ cost: Cost; pages: number }> {
  const t = newBackend();
  // Every other seeded order is running; all were last touched a day and more ago.
  await seedUnrelated(t, 2 * stale, 25 * HOUR);
  takeLogged();
  await t.mutation(internal.reconcile.sweep, {});
  await t.finishAllScheduledFunctions(() => vi.runAllTimers(), 1000);
  const costs = takeLogged().flatMap((line) => {
    const match = /^reconcile: failed \d+ \w+ order\(s\) in one transaction (\{.*\})$/.exec(line);
    return match ? [JSON.parse(match[1]) as Cost] : [];
  });
  const largest = costs.reduce((worst, cost) => (cost.documentsRead > worst.documentsRead ? cost : worst), costs[0]);
  return { cost: largest, pages: costs.length };
}

test(`no operation reads more documents with ${SIZES.join(" than with ")} unrelated rows in every table`, async () => {
  const runs = [];
  for (const size of SIZES) {
    runs.push({ size, costs: await measure(size) });
  }
  const [small, large] = [runs[0], runs.at(-1)!];
  const rows = [...small.costs.keys()].map((operation) => {
    const a = small.costs.get(operation)!;
    const b = large.costs.get(operation)!;
    return { operation, a, b, ratio: b.documentsRead / Math.max(1, a.documentsRead) };
  });
  const reconcile = await reconcilerPages(STALE_ORDERS);

  const header = `| operation | docs read (${small.size}) | docs written | bytes read | docs read (${large.size}) | docs written | bytes read | ratio |`;
  const table = [
    header,
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map(
      ({ operation, a, b, ratio }) =>
        `| ${operation} | ${a.documentsRead} | ${a.documentsWritten} | ${a.bytesRead} | ${b.documentsRead} | ${b.documentsWritten} | ${b.bytesRead} | ${ratio.toFixed(2)} |`,
    ),
    "",
    `Reconciler without Temporal, ${STALE_ORDERS} stale running orders among ${2 * STALE_ORDERS} orders: ${reconcile.pages} page transactions; the costliest read ${reconcile.cost.documentsRead} documents (${reconcile.cost.bytesRead} bytes) and wrote ${reconcile.cost.documentsWritten}.`,
  ].join("\n");
  mkdirSync("build/bench", { recursive: true });
  writeFileSync("build/bench/cost.md", `${table}\n`);
  process.stdout.write(`\n${table}\n\n`);

  for (const { operation, a, b } of rows) {
    expect(b.documentsRead, `${operation}: documents read grew with unrelated rows`).toBe(a.documentsRead);
  }
  expect(reconcile.cost.documentsRead).toBeLessThanOrEqual(250);
}, 900_000);
