import { expect, vi } from "vitest";
import { api } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import { newBackend } from "../backend";
import { asService, asUser } from "../callers";
import { settle } from "../clock";
import { issueCommentOnAcme } from "../github/comments";
import { postEvent, statusChanged } from "../senders/events";
import { postGithub } from "../senders/github";
import { ALICE, clickOn, postSlack, postSlackForm, slashCommand, TEAM } from "../senders/slack";
import { costOfCall, costOfDelivery, costOfOperation } from "./costLog";
import type { Cost } from "../../../convex/model/platform/cost";
import { seedUnrelated } from "./unrelated";

/** Each public function and each sender's delivery, measured among unrelated rows, beside its minimum (cost.test.ts). */

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
/*
 * Slash commands and clicks count the whole operation: every transaction
 * from the request to the last step it scheduled (costOfOperation). A slash
 * command is applied in the transaction that records it, its row inserted
 * once in its final status; a click is recorded (its row, its body, a
 * counter shard), then applied by the scheduled mutation as any delivery.
 */
const APPLIED_AT_RECEIPT = { reads: ["counter shard", "its patch"], writes: ["delivery (in its final status)", "its body's document", "counter shard", "attempt row"] };
const RECEIPT = { reads: ["received counter shard", "its patch"], writes: ["delivery (inserted accepted)", "its body's document", "received counter shard"] };
export const MINIMUM: Record<string, { reads: string[]; writes: string[] }> = {
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
  "Slack slash command `status` (the caller has 1 order)": { reads: ["1 order", ...APPLIED_AT_RECEIPT.reads], writes: APPLIED_AT_RECEIPT.writes },
  "Slack slash command `cancel <id>` (the caller's live order)": {
    reads: ["order", "session (ownership)", "its patch", "2 live rows (target, requester: dropped, the order is final)", "2 live-row deletions", ...APPLIED_AT_RECEIPT.reads],
    writes: ["order", "history row", "2 live rows deleted", "event", ...APPLIED_AT_RECEIPT.writes],
  },
  "Slack click Cancel (the clicker's running order)": {
    reads: ["order", "session (ownership)", "its patch", "2 live rows (target, requester: dropped, the order is final)", "2 live-row deletions", ...RECEIPT.reads, ...INBOX.reads],
    writes: ["order", "history row", "2 live rows deleted", "event", ...RECEIPT.writes, ...INBOX.writes],
  },
  "Slack click Retry (the clicker's failed order)": {
    reads: ["order", "session (ownership)", "target (the copy's)", "0 retries and 0 live requester rows (none yet)", ...RECEIPT.reads, ...INBOX.reads],
    writes: ["copy", "its target", "live target", "live requester row", "history row", "event", "retry row", ...RECEIPT.writes, ...INBOX.writes],
  },
};

/** How many documents a list of things names ("2 args" is two). */
export function countOf(things: string[]): number {
  return things.reduce((sum, thing) => sum + (/^\d+ /.test(thing) ? Number(thing.split(" ")[0]) : 1), 0);
}

/** Every measured operation, on a backend with `unrelated` rows in every table. */
export async function measureOperations(unrelated: number): Promise<Map<string, Cost>> {
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

  // A Slack user's orders, in a session of theirs: each command and click acts on one.
  const slackAlice = `slack:${TEAM}:${ALICE}`;
  const slackSession = await asUser(t, slackAlice).mutation(api.chatSessions.create, { title: "From Slack" });
  const slackOrder = async (...statuses: ("running" | "failed")[]) => {
    const id = await service.mutation(api.workOrders.create, { sessionId: slackSession, workflowType: "codex-implement", prompt: "Fix SSO", title: "SSO", target });
    for (const status of statuses) {
      await service.mutation(api.workOrders.updateStatus, { workOrderId: id, status });
    }
    await settle(t);
    return id;
  };
  const statusOf = async (id: Id<"work_orders">) => (await t.run(async (ctx) => await ctx.db.get("work_orders", id)))?.status;
  /** The whole operation's cost, once the answer and the order's status are what it asks for. */
  const measured = async (fields: Record<string, string>, answered: RegExp, order: Id<"work_orders">, status: string) => {
    let answer: unknown;
    const cost = await costOfOperation(t, async () => {
      answer = (await postSlackForm(t, fields)).body;
    });
    expect(JSON.stringify(answer)).toMatch(answered);
    expect(await statusOf(order)).toBe(status);
    return cost;
  };
  const live = await slackOrder();
  costs.set("Slack slash command `status` (the caller has 1 order)", await measured(slashCommand("status"), new RegExp(`Your work order:.*${live}`), live, "submitted"));
  costs.set("Slack slash command `cancel <id>` (the caller's live order)", await measured(slashCommand(`cancel ${live}`), /Canceled/i, live, "canceled"));
  const running = await slackOrder("running");
  costs.set("Slack click Cancel (the clicker's running order)", await measured(clickOn("work_order.cancel", running), /"accepted"/, running, "canceled"));
  const failed = await slackOrder("running", "failed");
  costs.set("Slack click Retry (the clicker's failed order)", await measured(clickOn("work_order.retry", failed), /"accepted"/, failed, "failed"));
  const retries = await t.run(async (ctx) => await ctx.db.query("work_order_retries").withIndex("by_workOrderId", (q) => q.eq("workOrderId", failed)).collect());
  expect(retries).toHaveLength(1);
  return costs;
}
