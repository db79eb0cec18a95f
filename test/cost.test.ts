// @vitest-environment node
/**
 * The cost benchmark (`npm run bench`; reduced in `npm test`): documents and
 * bytes each operation's whole transaction reads and writes, with few and
 * with many unrelated rows in every table, beside the minimum the operation
 * must touch. An operation whose documents read grow with unrelated rows, or
 * that reads or writes more than 1.25 times its minimum, fails the run; so
 * does a burst that writes one document (counter shards and a thread's
 * session aside) in more than a few transactions. docs/performance.md holds
 * the figures.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { beforeEach, expect, test, vi } from "vitest";
import { api, internal } from "../convex/_generated/api";
import type { Id } from "../convex/_generated/dataModel";
import { newBackend, type Backend } from "./helpers/backend";
import { seedUnrelated } from "./helpers/bench/unrelated";
import { asService, asUser } from "./helpers/callers";
import { burstOfPushes, burstOfSlackMessages, type BurstFigure } from "./helpers/bursts";
import { liveOrder, type Target } from "./helpers/workOrders";
import { issueCommentOnAcme } from "./helpers/githubComments";
import { postGithub, pushOf } from "./helpers/senders/github";
import { postEvent, statusChanged, EVENTS_SECRET } from "./helpers/senders/events";
import { newSession } from "./helpers/records";
import { withFakeClock, settle } from "./helpers/clock";
import { postSlack, SLACK_SECRET } from "./helpers/senders/slack";

const BENCH = process.env.BENCH_SIZES !== undefined;
const SIZES = (process.env.BENCH_SIZES ?? "100,2000").split(",").map(Number);
// A push larger than one transaction writes: GitHub's largest to 2 orders, to 8 with BENCH_PUSH=2048x8
// (minutes: the test backend scans the links table for every lookup). It and the bursts run in the
// bench only; npm test pins them in largeDeliveries.test.ts and hotDocuments.test.ts.
const [pushCommits, pushOrders] = (process.env.BENCH_PUSH ?? "2048x2").split("x").map(Number);
const BIG_PUSH = { commits: pushCommits, orders: pushOrders };
// The reconciler's pages among every table's unrelated rows: 2,000 stale orders in the bench, 200 in
// `npm test`, where reconcileScale.test.ts pins the same bound at 2,000 (and this took most of the file's time).
const STALE_ORDERS = Number(process.env.BENCH_STALE_ORDERS ?? (BENCH ? 2000 : 200));
const HOUR = 60 * 60 * 1000;

type Cost = { documentsRead: number; documentsWritten: number; bytesRead: number; bytesWritten: number };

/** Every line logged since the last take: the public functions' `cost {...}` and the reconciler's page lines. */
let logged: string[] = [];
function takeLogged(): string[] {
  const lines = logged;
  logged = [];
  return lines;
}

withFakeClock();
beforeEach(() => {
  logged = [];
  vi.spyOn(console, "log").mockImplementation((line: unknown) => {
    logged.push(String(line));
  });
  vi.stubEnv("JANGAR_LOG_COST", "1");
  vi.stubEnv("SLACK_SIGNING_SECRET", SLACK_SECRET);
  vi.stubEnv("EVENTS_WEBHOOK_SECRET", EVENTS_SECRET);
  vi.stubEnv("TEMPORAL_HTTP_URL", "");
  vi.stubEnv("GITHUB_APP_SLUG", "jangar");
});

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

/** The whole-transaction cost that processing a delivery logged (JANGAR_LOG_COST); it must be processed in one. */
async function costOfDelivery(t: Backend, post: () => Promise<{ body: Record<string, unknown> }>): Promise<Cost> {
  takeLogged();
  const { body } = await post();
  await settle(t);
  const delivery = await t.run(async (ctx) => await ctx.db.get("webhook_deliveries", body.delivery as Id<"webhook_deliveries">));
  expect(delivery?.status).toBe("processed");
  const costs = takeLogged().flatMap((line) => {
    const match = /^cost delivery (\{.*\})$/.exec(line);
    return match ? [JSON.parse(match[1]) as Cost] : [];
  });
  expect(costs).toHaveLength(1);
  return costs[0];
}

const push = (commits: number) => ({
  ref: "refs/heads/feature/sso",
  deleted: false,
  repository: { full_name: "Acme/API" },
  commits: Array.from({ length: commits }, (_, i) => ({ id: (i + 1).toString(16).padStart(40, "a"), message: `Step ${i + 1}` })),
});

const pullRequest = (action: string, number: number, branch: string, merged = false) => ({
  action,
  repository: { full_name: "Acme/API" },
  pull_request: {
    html_url: `https://github.com/Acme/API/pull/${number}`,
    body: "Adds SSO.",
    merged,
    merge_commit_sha: merged ? "C0FFEE0000000000000000000000000000000001" : null,
    head: { ref: branch, repo: { full_name: "Acme/API" } },
  },
});

/**
 * The fewest documents each operation could read and write, from what it
 * must touch; Convex counts a patch as a read of its document too. Processing
 * reads the delivery and its body's document. The inbox's counts are one
 * shard per transaction (the status a delivery leaves and the one it enters
 * in one document), read and written. Public functions read the caller's session
 * to check ownership. Every change but a service's own call writes its
 * event (events out; JANGAR_EVENTS_URL is not set here, so nothing is
 * queued: the sending side's figures are in eventsCost.test.ts). Within a
 * minute of an order's last change, links, args
 * and targets do not move its updatedAt (docs/reliability.md).
 */
const INBOX = {
  reads: ["delivery", "its body's document", "delivery's patch", "counter shard", "its patch"],
  writes: ["delivery", "counter shard", "attempt row"],
};
const MINIMUM: Record<string, { reads: string[]; writes: string[] }> = {
  "chatSessions:create": { reads: [], writes: ["session"] },
  "chatSessions:list (page of 20; alice has 2)": { reads: ["2 sessions"], writes: [] },
  "chatSessions:get": { reads: ["session"], writes: [] },
  "chatMessages:append": { reads: ["session", "its patch"], writes: ["message", "session", "event"] },
  "chatMessages:listBySession (page of 20)": { reads: ["session", "20 messages"], writes: [] },
  "workOrders:create (2 args, target)": {
    reads: ["session", "0 live requester rows (alice's live orders, counted)"],
    writes: ["order", "2 args", "target", "live target", "live requester row", "history row", "event"],
  },
  "workOrders:updateStatus (service)": { reads: ["order", "its patch"], writes: ["order", "history row"] },
  "workOrders:listBySession": { reads: ["session", "1 order"], writes: [] },
  "workOrderArgs:upsert (new name; 2 args before)": { reads: ["order", "session", "2 args (the cap of 100)", "target (the launch input's size)"], writes: ["arg"] },
  "workOrderTargets:upsert (replacing)": {
    reads: ["order", "session", "target", "its patch", "3 args (the launch input's size)", "live target", "its patch"],
    writes: ["target", "live target"],
  },
  "workOrderLinks:add (the order's first)": { reads: ["order", "session"], writes: ["link", "counter shard (new)", "live link row", "event"] },
  "workOrders:get (3 args, target, 1 link)": { reads: ["order", "session", "3 args", "target", "link"], writes: [] },
  "GitHub push (5 commits, 1 order on the branch)": {
    reads: ["live target", "order (its updatedAt)", "link counter shard", "its patch", ...INBOX.reads],
    writes: ["5 links", "link counter shard", "5 events", ...INBOX.writes],
  },
  "GitHub pull_request opened (1 order on the head branch)": {
    reads: ["live target", "order", "its live issue row (the cap of 20)", "link counter shard", "its patch", ...INBOX.reads],
    writes: ["link", "live link row", "link counter shard", "event", ...INBOX.writes],
  },
  "GitHub issues edited (issue linked to 1 order)": { reads: ["the live link row", "the link", ...INBOX.reads], writes: INBOX.writes },
  "GitHub pull_request merged (1 order, by head branch and link)": {
    reads: [
      "live target",
      "live PR row",
      "order",
      "the PR link",
      "link counter shard",
      "its patch",
      "order's patch",
      "3 live rows (target, PR, requester: dropped, the order is finished)",
      "3 live-row deletions",
      ...INBOX.reads,
    ],
    writes: ["merge commit link", "link counter shard", "order", "history row", "3 live rows deleted", "2 events", ...INBOX.writes],
  },
  "GitHub issue_comment mentioning the App (new thread)": {
    reads: ["session's patch", ...INBOX.reads],
    writes: ["the repository's installation (its first App delivery)", "session", "thread binding", "message", "message origin", "event", ...INBOX.writes],
  },
  "GitHub issue_comment mentioning the App (bound thread)": {
    reads: ["the repository's installation", "thread binding", "session", "its patch", "the binding's patch", ...INBOX.reads],
    writes: ["message", "session", "message origin", "thread binding (its last comment)", "event", ...INBOX.writes],
  },
  "Slack app_mention (new thread)": {
    reads: ["session's patch", ...INBOX.reads],
    writes: ["session", "thread binding", "message", "message origin", "event", ...INBOX.writes],
  },
  "Slack message in a bound thread": {
    reads: ["thread binding", "session", "its patch", ...INBOX.reads],
    writes: ["message", "session", "message origin", "event", ...INBOX.writes],
  },
  "events work_order.status.changed": {
    reads: ["order", "its patch", "4 live rows (target, issue, PR, requester: dropped, the order is finished)", "4 live-row deletions", ...INBOX.reads],
    writes: ["order", "history row", "4 live rows deleted", "event", ...INBOX.writes],
  },
};

/** How many documents a list of things names ("2 args" is two). */
function countOf(things: string[]): number {
  return things.reduce((sum, thing) => sum + (/^\d+ /.test(thing) ? Number(thing.split(" ")[0]) : 1), 0);
}

/** Every measured operation, on a backend with `unrelated` rows in every table. */
async function measure(unrelated: number): Promise<Map<string, Cost>> {
  const t = newBackend();
  await seedUnrelated(t, unrelated);
  // Counter shards chosen alike in every run (they all exist: see seedUnrelated).
  vi.spyOn(Math, "random").mockReturnValue(0);
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
  costs.set("chatSessions:list (page of 20; alice has 2)", await costOfCall(() => alice.query(api.chatSessions.list, { paginationOpts: firstPage })));
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
  costs.set("workOrders:updateStatus (service)", await costOfCall(() => service.mutation(api.workOrders.updateStatus, { workOrderId: workOrderId!, status: "accepted" })));
  costs.set("workOrders:listBySession", await costOfCall(() => alice.query(api.workOrders.listBySession, { sessionId, paginationOpts: firstPage })));
  costs.set("workOrderArgs:upsert (new name; 2 args before)", await costOfCall(() => alice.mutation(api.workOrderArgs.upsert, { workOrderId: workOrderId!, name: "effort", value: "high" })));
  costs.set("workOrderTargets:upsert (replacing)", await costOfCall(() => alice.mutation(api.workOrderTargets.upsert, { workOrderId: workOrderId!, targetRepo: "Acme/API", targetBranch: "feature/sso-2" })));
  await alice.mutation(api.workOrderTargets.upsert, { workOrderId: workOrderId!, ...target });
  costs.set("workOrderLinks:add (the order's first)", await costOfCall(() => alice.mutation(api.workOrderLinks.add, { workOrderId: workOrderId!, kind: "github_issue", value: "https://github.com/acme/api/issues/7" })));
  costs.set("workOrders:get (3 args, target, 1 link)", await costOfCall(() => alice.query(api.workOrders.get, { workOrderId: workOrderId! })));
  await service.mutation(api.workOrders.updateStatus, { workOrderId: workOrderId!, status: "running" });

  costs.set("GitHub push (5 commits, 1 order on the branch)", await costOfDelivery(t, () => postGithub(t, { event: "push", payload: push(5) })));
  costs.set(
    "GitHub pull_request opened (1 order on the head branch)",
    await costOfDelivery(t, () => postGithub(t, { event: "pull_request", payload: pullRequest("opened", 12, "feature/sso") })),
  );
  costs.set(
    "GitHub issues edited (issue linked to 1 order)",
    await costOfDelivery(t, () =>
      postGithub(t, {
        event: "issues",
        payload: { action: "edited", repository: { full_name: "Acme/API" }, issue: { html_url: "https://github.com/Acme/API/issues/7", body: "SSO fails" } },
      }),
    ),
  );
  const merging = await alice.mutation(api.workOrders.create, { sessionId, workflowType: "codex-implement", prompt: "Add SAML", title: "SAML", target: { ...target, targetBranch: "feature/saml" } });
  await service.mutation(api.workOrders.updateStatus, { workOrderId: merging, status: "running" });
  await postGithub(t, { event: "pull_request", payload: pullRequest("opened", 13, "feature/saml") });
  await settle(t);
  costs.set(
    "GitHub pull_request merged (1 order, by head branch and link)",
    await costOfDelivery(t, () => postGithub(t, { event: "pull_request", payload: pullRequest("closed", 13, "feature/saml", true) })),
  );

  costs.set("GitHub issue_comment mentioning the App (new thread)", await costOfDelivery(t, () => postGithub(t, { event: "issue_comment", payload: issueCommentOnAcme(1001) })));
  costs.set("GitHub issue_comment mentioning the App (bound thread)", await costOfDelivery(t, () => postGithub(t, { event: "issue_comment", payload: issueCommentOnAcme(1002) })));

  const now = Math.floor(Date.now() / 1000);
  const slack = (eventId: string, event: Record<string, unknown>) =>
    postSlack(t, { payload: { type: "event_callback", team_id: "T0ACME", event_id: eventId, event_time: now, event: { channel: "C0AB1", ...event } } });
  costs.set(
    "Slack app_mention (new thread)",
    await costOfDelivery(t, () => slack("Ev0MENTION", { type: "app_mention", user: "U01ALICE", text: "<@U0JANGAR> fix SSO", ts: `${now}.000100` })),
  );
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
  await settle(t, 1000);
  const costs = takeLogged().flatMap((line) => {
    const match = /^reconcile: failed \d+ \w+ order\(s\) in one transaction (\{.*\})$/.exec(line);
    return match ? [JSON.parse(match[1]) as Cost] : [];
  });
  const largest = costs.reduce((worst, cost) => (cost.documentsRead > worst.documentsRead ? cost : worst), costs[0]);
  return { cost: largest, pages: costs.length };
}

/** A push of `commits` commits to a branch with `orders` live orders: the transactions that applied it and the costliest. */
async function bigPush(commits: number, orders: number): Promise<{ transactions: Cost[]; links: number }> {
  const t = newBackend();
  const sessionId = await newSession(t, "alice");
  const branch: Target = { targetRepo: "acme/api", targetBranch: "release" };
  for (let i = 0; i < orders; i += 1) {
    await liveOrder(t, sessionId, branch);
  }
  takeLogged();
  const { body } = await postGithub(t, { event: "push", payload: pushOf(branch, commits) });
  await settle(t);
  const delivery = await t.run(async (ctx) => await ctx.db.get("webhook_deliveries", body.delivery as Id<"webhook_deliveries">));
  expect(delivery).toMatchObject({ status: "processed", touchedCount: commits * orders });
  const transactions = takeLogged().flatMap((line) => {
    const match = /^cost delivery (\{.*\})$/.exec(line);
    return match ? [JSON.parse(match[1]) as Cost] : [];
  });
  return { transactions, links: delivery!.touchedCount! };
}

const ratio = (measured: number, minimum: number) => (minimum === 0 ? (measured === 0 ? 1 : Infinity) : measured / minimum);

test(`every operation reads and writes within 1.25x of its minimum, and no more with ${SIZES.join(" than with ")} unrelated rows in every table`, async () => {
  const runs = [];
  for (const size of SIZES) {
    runs.push({ size, costs: await measure(size) });
    vi.restoreAllMocks();
    vi.spyOn(console, "log").mockImplementation((line: unknown) => {
      logged.push(String(line));
    });
  }
  const [small, large] = [runs[0], runs.at(-1)!];
  const rows = [...large.costs.keys()].map((operation) => {
    const cost = large.costs.get(operation)!;
    const minimum = MINIMUM[operation];
    const least = { reads: countOf(minimum.reads), writes: countOf(minimum.writes) };
    return {
      operation,
      cost,
      least,
      minimum,
      smallReads: small.costs.get(operation)!.documentsRead,
      readRatio: ratio(cost.documentsRead, least.reads),
      writeRatio: ratio(cost.documentsWritten, least.writes),
    };
  });
  const reconcile = await reconcilerPages(STALE_ORDERS);
  const big = BENCH ? await bigPush(BIG_PUSH.commits, BIG_PUSH.orders) : null;
  const bursts: BurstFigure[] = BENCH ? [await burstOfPushes(), await burstOfSlackMessages()] : [];

  const costliest = (key: keyof Cost) => Math.max(...big!.transactions.map((cost) => cost[key]));
  const table = [
    `Whole transactions (the delivery's own write and the inbox counters included), with ${large.size} unrelated rows in every table:`,
    "",
    "| operation | docs read | minimum | ratio | docs written | minimum | ratio | bytes read | bytes written | docs read with " + small.size + " |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map(
      ({ operation, cost, least, smallReads, readRatio, writeRatio }) =>
        `| ${operation} | ${cost.documentsRead} | ${least.reads} | ${readRatio.toFixed(2)} | ${cost.documentsWritten} | ${least.writes} | ${writeRatio.toFixed(2)} | ${cost.bytesRead} | ${cost.bytesWritten} | ${smallReads} |`,
    ),
    "",
    "Minimums, from what each operation must touch:",
    "",
    ...rows.map(({ operation, minimum }) => `- ${operation}: reads ${minimum.reads.join(", ") || "nothing"}; writes ${minimum.writes.join(", ") || "nothing"}.`),
    "",
    ...(big === null
      ? []
      : [
          `Push of ${BIG_PUSH.commits} commits to a branch with ${BIG_PUSH.orders} live orders (${big.links} links): ${big.transactions.length} transactions; the costliest read ${costliest("documentsRead")} documents and wrote ${costliest("documentsWritten")} (${costliest("bytesWritten")} bytes).`,
          "",
        ]),
    `Reconciler without Temporal, ${STALE_ORDERS} stale running orders among ${2 * STALE_ORDERS} orders: ${reconcile.pages} page transactions; the costliest read ${reconcile.cost.documentsRead} documents (${reconcile.cost.bytesRead} bytes) and wrote ${reconcile.cost.documentsWritten}.`,
    ...(bursts.length === 0
      ? []
      : [
          "",
          "Bursts: which documents the transactions write (test/helpers/writeSets.ts):",
          "",
          "| burst | transactions | most transactions writing one document (counter shards and the thread's session aside) | most writing one counter shard | the thread's session |",
          "| --- | ---: | ---: | ---: | ---: |",
          ...bursts.map(
            (burst) =>
              `| ${burst.burst} | ${burst.transactions} | ${burst.hottest.writes} (${burst.hottest.document}) | ${burst.busiestShard} | ${burst.expected?.writes ?? "-"} |`,
          ),
        ]),
  ].join("\n");
  mkdirSync("build/bench", { recursive: true });
  writeFileSync("build/bench/cost.md", `${table}\n`);
  process.stdout.write(`\n${table}\n\n`);

  for (const { operation, cost, readRatio, writeRatio, smallReads } of rows) {
    expect(cost.documentsRead, `${operation}: documents read grew with unrelated rows`).toBe(smallReads);
    expect(readRatio, `${operation}: documents read against the minimum`).toBeLessThanOrEqual(1.25);
    expect(writeRatio, `${operation}: documents written against the minimum`).toBeLessThanOrEqual(1.25);
  }
  expect(reconcile.cost.documentsRead).toBeLessThanOrEqual(250);
  if (big !== null) {
    expect(big.transactions.length).toBeGreaterThan(1);
    expect(costliest("documentsWritten")).toBeLessThan(16_000 / 4);
  }
  for (const burst of bursts) {
    expect(burst.hottest.writes, burst.burst).toBeLessThanOrEqual(3);
  }
}, 1_800_000);
