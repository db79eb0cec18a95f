// @vitest-environment node
/**
 * Every execution of an operation, from the request to the last scheduled
 * step (`npm run bench`, and in `npm test`): executions by kind, documents
 * and bytes of every transaction, file-storage operations and scheduled
 * functions (test/helpers/bench/trace.ts). A small delivery of every sender
 * takes 3 executions (the HTTP action, the record mutation, the apply
 * mutation) and no storage operation; a slash command 2. Replies, card
 * updates and GitHub requests are counted to the outbox's last step. In
 * `npm run bench` (BENCH_SIZES) every operation runs beside each number of
 * unrelated rows, and must read as many documents with each. The table goes
 * to build/bench/executions.md; docs/performance.md holds the figures.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { beforeEach, expect, test, vi } from "vitest";
import { api } from "../../convex/_generated/api";
import { FAKE_JANGAR_SECRET, FAKE_JANGAR_URL, FakeJangar } from "../../fakes/jangar";
import { FAKE_SLACK_TOKEN, FakeSlack } from "../../fakes/slack";
import { newBackend } from "../helpers/backend";
import { costOfOperation } from "../helpers/bench/costLog";
import { executionsOf, type OperationCost } from "../helpers/bench/trace";
import { counterWritesOf, DURATIONS_MS, shardRates, type CounterWrites } from "../helpers/bench/conflicts";
import { seedUnrelated, seedUnrelatedOutbox } from "../helpers/bench/unrelated";
import { asService } from "../helpers/callers";
import { configureGithubApp } from "../helpers/github/app";
import { issueCommentOnAcme } from "../helpers/github/comments";
import { liveOrder } from "../helpers/orders/crowds";
import { newSession, newWorkOrder } from "../helpers/records";
import { postGithub, pushOf } from "../helpers/senders/github";
import { EVENTS_SECRET, postEvent, statusChanged } from "../helpers/senders/events";
import { ALICE, clickOn, configureSlackApp, postSlackEvent, postSlackForm, slackSessionsOf, slashCommand, TEAM } from "../helpers/senders/slack";
import { settle, withFakeClock } from "../helpers/clock";
import { recordWriteSets } from "../helpers/bench/writeSets";

const TARGET = { targetRepo: "acme/widgets", targetBranch: "feature/sso" };
const EVENT_SENT = "Slack message in the bound thread, its event sent (events out on)";
const PUSH_EVENTS_SENT = "GitHub push (3 commits, 1 order), its events sent (events out on)";
// The load of docs/performance.md#the-inbox-at-10000-deliveries-a-minute, in operations a second: 10,000 GitHub
// deliveries a minute, 1 in 100 a comment mentioning the App (its reaction, then a reply comment), the rest pushes;
// 1,000 Slack messages a minute, each answered by a reply in its thread.
const GITHUB_PER_SECOND = 10_000 / 60;
const SLACK_PER_SECOND = 1_000 / 60;
const MENTIONS_PER_SECOND = GITHUB_PER_SECOND / 100;
const LOAD: [string, number][] = [
  ["GitHub push (3 commits, 1 order)", GITHUB_PER_SECOND - MENTIONS_PER_SECOND],
  ["GitHub comment mentioning the App (its reaction sent)", MENTIONS_PER_SECOND],
  ["GitHub reply (chatMessages:append, comment sent)", MENTIONS_PER_SECOND],
  ["Slack message in the bound thread", SLACK_PER_SECOND],
  ["Slack reply (chatMessages:append, posted)", SLACK_PER_SECOND],
];
// The same load with events out on: each push's link events, and each Slack message's event, sent to Jangar's server
// (a mention's own event, 1.7 a second, is left out).
const LOAD_EVENTS_ON: [string, number][] = LOAD.map(([operation, perSecond]) => [
  operation === "GitHub push (3 commits, 1 order)" ? PUSH_EVENTS_SENT : operation === "Slack message in the bound thread" ? EVENT_SENT : operation,
  perSecond,
]);
// Unrelated rows beside each run: none in `npm test`; 1,000 and 50,000 in `npm run bench`.
const SIZES = (process.env.BENCH_SIZES ?? "0").split(",").map(Number);

withFakeClock();
beforeEach(() => {
  vi.spyOn(console, "log").mockImplementation(() => {});
});

/** Every operation once, beside `unrelated` rows in every table; each one's whole cost. */
async function everyOperation(unrelated: number) {
  // Each run starts as the first did: no Slack token, no fake services from the run before.
  vi.unstubAllEnvs();
  vi.unstubAllGlobals();
  configureSlackApp();
  vi.stubEnv("EVENTS_WEBHOOK_SECRET", EVENTS_SECRET);
  vi.stubEnv("TEMPORAL_HTTP_URL", "");
  vi.stubEnv("WEBHOOK_INLINE_BODY_BYTES", "65536");
  const t = newBackend();
  if (unrelated > 0) {
    await seedUnrelated(t, unrelated);
    await seedUnrelatedOutbox(t, unrelated);
  }
  // Counter shards chosen alike in every run.
  vi.spyOn(Math, "random").mockReturnValue(0);
  const sessionId = await newSession(t, "alice");
  // A live order on the pushed branch.
  await liveOrder(t, sessionId, TARGET);
  // A live order of Alice's as Slack names her, which her click cancels; an accepted one, which a runner's event moves on.
  const clickedOrder = await liveOrder(t, await newSession(t, `slack:${TEAM}:${ALICE}`));
  const movedOrder = await newWorkOrder(t, sessionId);
  await asService(t).mutation(api.workOrders.updateStatus, { workOrderId: movedOrder, status: "accepted" });
  await settle(t);
  const now = Math.floor(Date.now() / 1000);
  const push = { event: "push", payload: pushOf(TARGET, 3), guid: "5c0ffee0-2f3d-11ef-9a3d-0242ac120001" };
  const costs = new Map<string, OperationCost>();
  const writes = new Map<string, CounterWrites>();
  /** The operation's whole cost, and which counters its transactions wrote. */
  const measure = async (name: string, operation: () => Promise<unknown>) => {
    const writeSets = await recordWriteSets(async () => void costs.set(name, await costOfOperation(t, operation)));
    writes.set(name, await counterWritesOf(t, writeSets));
  };

  await measure("GitHub push (3 commits, 1 order)", () => postGithub(t, push));
  await measure("GitHub push, redelivered (duplicate)", () => postGithub(t, push));
  await measure("GitHub star (ignored at receipt)", () => postGithub(t, { event: "star", payload: { action: "created", starred_at: null } }));
  await measure("Slack app_mention (new thread)", () =>
      postSlackEvent(t, {
        type: "event_callback",
        team_id: TEAM,
        event_id: "Ev0EXEC1",
        event_time: now,
        event: { type: "app_mention", user: ALICE, text: "<@U0JANGAR> fix SSO", ts: `${now}.000100`, channel: "C0AB1" },
      }),
    );
  await measure("Slack message in the bound thread", () =>
      postSlackEvent(t, {
        type: "event_callback",
        team_id: TEAM,
        event_id: "Ev0EXEC2",
        event_time: now,
        event: { type: "message", user: ALICE, text: "and the logout page", ts: `${now}.000200`, thread_ts: `${now}.000100`, channel: "C0AB1" },
      }),
    );
  await measure("Slack slash command status", () => postSlackForm(t, slashCommand("status")));
  await measure("Slack click Cancel on a card", () => postSlackForm(t, clickOn("work_order.cancel", clickedOrder)));
  await measure("events work_order.status.changed", () => postEvent(t, { event: statusChanged(movedOrder, "running") }));
  vi.stubEnv("WEBHOOK_INLINE_BODY_BYTES", "1");
  await measure("GitHub push, body in file storage (over WEBHOOK_INLINE_BODY_BYTES)", () => postGithub(t, { event: "push", payload: pushOf(TARGET, 1, 10) }));
  vi.stubEnv("WEBHOOK_INLINE_BODY_BYTES", "65536");
  // Events out on: the message's event is sent to a fake of Jangar's server, through the outbox.
  const jangar = new FakeJangar();
  vi.stubGlobal("fetch", jangar.fetch);
  vi.stubEnv("JANGAR_EVENTS_URL", FAKE_JANGAR_URL);
  vi.stubEnv("JANGAR_EVENTS_SECRET", FAKE_JANGAR_SECRET);
  await measure(EVENT_SENT, () =>
    postSlackEvent(t, {
      type: "event_callback",
      team_id: TEAM,
      event_id: "Ev0EXEC3",
      event_time: now,
      event: { type: "message", user: ALICE, text: "and the signup page", ts: `${now}.000300`, thread_ts: `${now}.000100`, channel: "C0AB1" },
    }),
  );
  await measure(PUSH_EVENTS_SENT, () => postGithub(t, { event: "push", payload: pushOf(TARGET, 3, 20) }));
  expect(jangar.calls.map((call) => [call.event?.type, call.answer])).toEqual([
    ["chat.message.created", "ok"],
    ...Array.from({ length: 3 }, () => ["work_order.link.added", "ok"]),
  ]);
  vi.stubEnv("JANGAR_EVENTS_URL", "");

  // Posting: each operation to the outbox's last step, its requests answered by the fakes.
  const slack = new FakeSlack();
  const github = configureGithubApp();
  vi.stubEnv("SLACK_BOT_TOKEN", FAKE_SLACK_TOKEN);
  vi.stubGlobal("fetch", (input: RequestInfo | URL, init?: RequestInit) =>
    String(input instanceof Request ? input.url : input).startsWith(github.baseUrl) ? github.fetch(input, init) : slack.fetch(input, init),
  );
  const service = asService(t);
  const [slackSession] = await slackSessionsOf(t, ALICE);
  await measure("Slack reply (chatMessages:append, posted)", () => service.mutation(api.chatMessages.append, { sessionId: slackSession._id, role: "assistant", content: "Looking at build 4812." }));
  let cardOrder: Awaited<ReturnType<typeof liveOrder>> | undefined;
  await measure("Slack card posted (workOrders:create)", async () => {
      cardOrder = await service.mutation(api.workOrders.create, { sessionId: slackSession._id, workflowType: "codex-implement", prompt: "Fix SSO", title: "SSO" });
    });
  await measure("Slack card update (workOrders:updateStatus)", () => service.mutation(api.workOrders.updateStatus, { workOrderId: cardOrder!, status: "accepted" }));
  await measure("GitHub comment mentioning the App (its reaction sent)", () => postGithub(t, { event: "issue_comment", payload: issueCommentOnAcme(1001, "@jangar why does SSO fail on Safari?") }));
  const { page } = await service.query(api.chatSessions.list, { userId: "github:alice", paginationOpts: { numItems: 1, cursor: null } });
  await measure("GitHub reply (chatMessages:append, comment sent)", () => service.mutation(api.chatMessages.append, { sessionId: page[0]._id, role: "assistant", content: "The cookie is SameSite=Strict." }));
  expect(slack.calls.map(({ method }) => method)).toEqual(["chat.postMessage", "chat.postMessage", "chat.update"]);
  expect([github.reactions.length, github.comments.length]).toEqual([1, 1]);
  expect([slack.violations, github.violations]).toEqual([[], []]);
  return { costs, writes };
}

test(`every operation's executions, from the request to its last scheduled step, beside ${SIZES.join(" and ")} unrelated rows`, async () => {
  const runs: { size: number; costs: Map<string, OperationCost>; writes: Map<string, CounterWrites> }[] = [];
  for (const size of SIZES) {
    runs.push({ size, ...(await everyOperation(size)) });
  }
  const costs = runs[0].costs;
  const columns = ["httpActions", "queries", "mutations", "actions", "nestedCalls", "documentsRead", "documentsWritten", "bytesRead", "bytesWritten", "storageOperations", "scheduled"] as const;
  const table = [
    `| operation | executions | ${columns.join(" | ")} |`,
    `| --- | --- |${columns.map(() => " --- |").join("")}`,
    ...[...costs].map(([operation, cost]) => `| ${operation} | ${executionsOf(cost)} | ${columns.map((column) => cost[column]).join(" | ")} |`),
  ].join("\n");
  const flatness = [
    `| operation | ${runs.map(({ size }) => `documents read (${size.toLocaleString("en")} unrelated rows)`).join(" | ")} |`,
    `| --- |${runs.map(() => " ---: |").join("")}`,
    ...[...costs.keys()].map((operation) => `| ${operation} | ${runs.map((run) => run.costs.get(operation)!.documentsRead).join(" | ")} |`),
  ].join("\n");
  const rates = shardRates(LOAD, runs[0].writes);
  const ratesEventsOn = shardRates(LOAD_EVENTS_ON, runs[0].writes);
  const percent = (share: number) => `${(100 * share).toFixed(1)} %`;
  const rateTable = (heading: string, shardRates: typeof rates) =>
    [
      `| ${heading} | shards | writes/s to one shard | ${DURATIONS_MS.map((ms) => `conflict estimate (d = ${ms} ms)`).join(" | ")} |`,
      `| --- | ---: | ---: |${DURATIONS_MS.map(() => " ---: |").join("")}`,
      ...shardRates.map((rate) => `| ${rate.counter} | ${rate.shards} | ${rate.writesPerSecond.toFixed(2)} | ${rate.conflicts.map(percent).join(" | ")} |`),
    ].join("\n");
  const hottest = `${rateTable("counter shard (events out off)", rates)}\n\n${rateTable("counter shard (events out on)", ratesEventsOn)}`;
  mkdirSync("build/bench", { recursive: true });
  writeFileSync("build/bench/executions.md", `${table}\n\n${flatness}\n\n${hottest}\n`);
  if (runs.length > 1) process.stdout.write(`\n${table}\n\n${flatness}\n\n${hottest}\n\n`);
  // The busiest counter shard at the stated load: under 10 % even for the longest transactions.
  expect(rates.map((rate) => rate.counter)).toEqual(expect.arrayContaining(["delivery_tallies github", "outbox_tallies slack", "outbox_tallies github"]));
  expect(rates[0].conflicts.at(-1)).toBeLessThan(0.1);
  // With events out on too: the events destination's shards are written by every push (its link events queued, claimed and recorded).
  expect(ratesEventsOn.map((rate) => rate.counter)).toContain("outbox_tallies events");
  expect(ratesEventsOn[0].conflicts.at(-1)).toBeLessThan(0.1);
  for (const run of runs.slice(1)) {
    for (const [operation, cost] of run.costs) {
      expect({ operation, documentsRead: cost.documentsRead }, `with ${run.size} unrelated rows`).toEqual({ operation, documentsRead: costs.get(operation)!.documentsRead });
    }
  }

  for (const operation of ["GitHub push (3 commits, 1 order)", "Slack app_mention (new thread)", "Slack message in the bound thread", "events work_order.status.changed"]) {
    const cost = costs.get(operation)!;
    expect({ operation, executions: executionsOf(cost), storageOperations: cost.storageOperations }).toEqual({ operation, executions: 3, storageOperations: 0 });
    expect(cost).toMatchObject({ httpActions: 1, mutations: 2, queries: 0, actions: 0 });
  }
  // A duplicate, an event ignored at receipt, a slash command and a click: the HTTP action and the one mutation.
  for (const operation of ["GitHub push, redelivered (duplicate)", "GitHub star (ignored at receipt)", "Slack slash command status"]) {
    expect({ operation, executions: executionsOf(costs.get(operation)!) }).toEqual({ operation, executions: 2 });
  }
  // Sending the event, beside the delivery's 3: the lane's step (an action: claim, send, record), and
  // the step its record schedules, which finds the lane empty (an action and its claim).
  expect(costs.get(EVENT_SENT)).toMatchObject({ httpActions: 1, mutations: 5, actions: 2, storageOperations: 0 });
  // A body in file storage: stored, read and processed by an action, as before.
  expect(costs.get("GitHub push, body in file storage (over WEBHOOK_INLINE_BODY_BYTES)")).toMatchObject({ actions: 1, storageOperations: 2 });
}, 1_200_000);
