// @vitest-environment node
/**
 * Every execution of an operation, from the request to the last scheduled
 * step (`npm run bench`, and in `npm test`): executions by kind, documents
 * and bytes of every transaction, file-storage operations and scheduled
 * functions (test/helpers/bench/trace.ts). A small delivery of every sender
 * takes 3 executions (the HTTP action, the record mutation, the apply
 * mutation) and no storage operation; a slash command 2. The table goes to
 * build/bench/executions.md; docs/performance.md holds the figures.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { afterEach, beforeEach, expect, test, vi } from "vitest";
import { FAKE_JANGAR_SECRET, FAKE_JANGAR_URL, FakeJangar } from "../fakes/jangar";
import { newBackend, type Backend } from "./helpers/backend";
import { executionsOf, operationCost, traceExecutions, type OperationCost } from "./helpers/bench/trace";
import { liveOrder } from "./helpers/workOrders";
import { newSession } from "./helpers/records";
import { postGithub, pushOf } from "./helpers/senders/github";
import { EVENTS_SECRET, postEvent, statusChanged } from "./helpers/senders/events";
import { ALICE, clickOn, configureSlackApp, postSlackEvent, postSlackForm, slashCommand, TEAM } from "./helpers/senders/slack";
import { settle, withFakeClock } from "./helpers/clock";

const TARGET = { targetRepo: "acme/widgets", targetBranch: "feature/sso" };
const EVENT_SENT = "Slack message in the bound thread, its event sent (events out on)";

let tracer: ReturnType<typeof traceExecutions>;

withFakeClock();
beforeEach(() => {
  vi.spyOn(console, "log").mockImplementation(() => {});
  configureSlackApp();
  vi.stubEnv("EVENTS_WEBHOOK_SECRET", EVENTS_SECRET);
  vi.stubEnv("TEMPORAL_HTTP_URL", "");
  tracer = traceExecutions();
});
afterEach(() => tracer.stop());

/** The whole cost of `operation`: the request and everything it scheduled, to the last step. */
async function whole(t: Backend, operation: () => Promise<unknown>): Promise<OperationCost> {
  tracer.take();
  await operation();
  await settle(t);
  return operationCost(tracer.take());
}

test("every operation's executions, from the request to its last scheduled step", async () => {
  const t = newBackend();
  const sessionId = await newSession(t, "alice");
  const workOrderId = await liveOrder(t, sessionId, TARGET);
  const now = Math.floor(Date.now() / 1000);
  const push = { event: "push", payload: pushOf(TARGET, 3), guid: "5c0ffee0-2f3d-11ef-9a3d-0242ac120001" };
  const costs = new Map<string, OperationCost>();

  costs.set("GitHub push (3 commits, 1 order)", await whole(t, () => postGithub(t, push)));
  costs.set("GitHub push, redelivered (duplicate)", await whole(t, () => postGithub(t, push)));
  costs.set(
    "GitHub star (ignored at receipt)",
    await whole(t, () => postGithub(t, { event: "star", payload: { action: "created", starred_at: null } })),
  );
  costs.set(
    "Slack app_mention (new thread)",
    await whole(t, () =>
      postSlackEvent(t, {
        type: "event_callback",
        team_id: TEAM,
        event_id: "Ev0EXEC1",
        event_time: now,
        event: { type: "app_mention", user: ALICE, text: "<@U0JANGAR> fix SSO", ts: `${now}.000100`, channel: "C0AB1" },
      }),
    ),
  );
  costs.set(
    "Slack message in the bound thread",
    await whole(t, () =>
      postSlackEvent(t, {
        type: "event_callback",
        team_id: TEAM,
        event_id: "Ev0EXEC2",
        event_time: now,
        event: { type: "message", user: ALICE, text: "and the logout page", ts: `${now}.000200`, thread_ts: `${now}.000100`, channel: "C0AB1" },
      }),
    ),
  );
  costs.set("Slack slash command status", await whole(t, () => postSlackForm(t, slashCommand("status"))));
  costs.set("Slack click Cancel on a card", await whole(t, () => postSlackForm(t, clickOn("work_order.cancel", workOrderId))));
  costs.set("events work_order.status.changed", await whole(t, () => postEvent(t, { event: statusChanged(workOrderId, "running") })));
  // Events out on: the message's event is sent to a fake of Jangar's server, through the outbox.
  const jangar = new FakeJangar();
  vi.stubGlobal("fetch", jangar.fetch);
  vi.stubEnv("JANGAR_EVENTS_URL", FAKE_JANGAR_URL);
  vi.stubEnv("JANGAR_EVENTS_SECRET", FAKE_JANGAR_SECRET);
  costs.set(
    EVENT_SENT,
    await whole(t, () =>
      postSlackEvent(t, {
        type: "event_callback",
        team_id: TEAM,
        event_id: "Ev0EXEC3",
        event_time: now,
        event: { type: "message", user: ALICE, text: "and the signup page", ts: `${now}.000300`, thread_ts: `${now}.000100`, channel: "C0AB1" },
      }),
    ),
  );
  expect(jangar.calls.map((call) => [call.event?.type, call.answer])).toEqual([["chat.message.created", "ok"]]);
  vi.stubEnv("JANGAR_EVENTS_URL", "");
  vi.stubEnv("WEBHOOK_INLINE_BODY_BYTES", "1");
  costs.set(
    "GitHub push, body in file storage (over WEBHOOK_INLINE_BODY_BYTES)",
    await whole(t, () => postGithub(t, { event: "push", payload: pushOf(TARGET, 1, 10) })),
  );
  // Marked place: GitHub requests join this table once their destination is on main.

  const columns = ["httpActions", "queries", "mutations", "actions", "nestedCalls", "documentsRead", "documentsWritten", "bytesRead", "bytesWritten", "storageOperations", "scheduled"] as const;
  const table = [
    `| operation | executions | ${columns.join(" | ")} |`,
    `| --- | --- |${columns.map(() => " --- |").join("")}`,
    ...[...costs].map(([operation, cost]) => `| ${operation} | ${executionsOf(cost)} | ${columns.map((column) => cost[column]).join(" | ")} |`),
  ].join("\n");
  mkdirSync("build/bench", { recursive: true });
  writeFileSync("build/bench/executions.md", `${table}\n`);

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
});
