import { api } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import type { FakeGitHub } from "../../../fakes/github";
import type { FakeJangar } from "../../../fakes/jangar";
import type { FakeSlack } from "../../../fakes/slack";
import type { FakeTemporal } from "../../../fakes/temporal";
import { githubComment } from "./githubComment";
import { jangarServer } from "./jangarServer";
import { outsideServices, stage } from "./outside";
import { ALICE, CHANNEL, REPO, SERVICE, TEAM, fixture } from "./settings";
import { timeline, untilOutboxIsSent, type DemoBackend, type DemoStep } from "./timeline";

/**
 * `npm run demo`: the whole journey of a work order, on this repository's
 * Convex functions running in convex-test (an embedded backend), with fake
 * Slack and Temporal APIs and a fake of Jangar's server: a Slack mention
 * starts a session and reaches Jangar's server as a signed event, which it
 * verifies and answers with a reply in the thread (through the service
 * client); Jangar's server creates a work order, it is launched on Temporal, the workflow runner says
 * it runs, GitHub sends a push and a merged pull request, the order
 * succeeds, Alice asks `/jangar status` and the card in her thread shows the
 * order succeeded; then a reviewer asks the GitHub App on the pull request,
 * and the answer is posted there as a comment (and in Alice's thread). Every
 * request is signed as its sender signs it; nothing leaves
 * the process. Each step reports the request, the answer, the calls the
 * deployment made (Temporal, Slack, Jangar's server), the records written
 * and the status.
 */

export type DemoResult = {
  steps: DemoStep[];
  /** The order's status history: `submitted (api)`, ... */
  history: string[];
  sessionId: Id<"chat_sessions">;
  workOrderId: Id<"work_orders">;
  temporal: FakeTemporal;
  slack: FakeSlack;
  github: FakeGitHub;
  jangar: FakeJangar;
};

export async function runDemo(t: DemoBackend, report: (step: DemoStep) => void = () => {}): Promise<DemoResult> {
  const { temporal, slack, github } = outsideServices();
  const { jangar, mentions, client } = await jangarServer(t);
  const calls: string[] = [];
  const unstage = stage(temporal, slack, github, jangar, calls);
  const service = t.withIdentity(SERVICE);
  let sessionId: Id<"chat_sessions"> | null = null;
  let workOrderId: Id<"work_orders"> | null = null;

  const statusNow = async () => {
    if (workOrderId !== null) {
      const order = await service.query(api.workOrders.get, { workOrderId });
      const links = order?.links.map((link) => `${link.kind} ${link.kind === "commit" ? link.value.slice(0, 7) : link.value}`) ?? [];
      return `work order "${order?.title}": ${order?.status}${links.length ? `; links: ${links.join(", ")}` : ""}`;
    }
    const sessions = await service.query(api.chatSessions.list, { userId: `slack:${TEAM}:${ALICE}`, paginationOpts: { numItems: 1, cursor: null } });
    sessionId = sessions.page[0]?._id ?? null;
    if (sessionId !== null) {
      const messages = await service.query(api.chatMessages.listBySession, { sessionId, paginationOpts: { numItems: 100, cursor: null } });
      return `session "${sessions.page[0].title}" of ${sessions.page[0].userId}, ${messages.page.length} message(s)`;
    }
    return "no session yet";
  };
  const taken = timeline(t, calls, statusNow, report);
  const { step, deliver } = taken;

  try {
    const mention = fixture("slack/01-alice-mentions-bot.json");
    const text = (mention.payload.event as { text: string }).text;
    await step("Slack", "POST /webhooks/slack", `app_mention by ${ALICE} in ${CHANNEL}: "${text}"`, () => deliver(mention, `Ev${Date.now()}DEMO`));

    await step(
      "Jangar's server",
      "chatMessages:append (the service client, connectHttp)",
      "the mention reached it as a signed event (verified with eventVerifier); it answers in the thread",
      async () => {
        const mentioned = mentions.shift();
        if (mentioned === undefined) return "no mention received";
        const replyId = await client.chatMessages.append({ sessionId: mentioned.sessionId, role: "assistant", content: "On it: I'll open a work order for the login page." });
        return `${replyId}`;
      },
    );

    await step(
      "Jangar's server",
      "workOrders:create (as a service)",
      `"Fix the login page 500", codex-implement, target ${REPO.url} @ ${REPO.branch}`,
      async () => {
        workOrderId = await service.mutation(api.workOrders.create, {
          sessionId: sessionId!,
          workflowType: "codex-implement",
          prompt: text.replace(/<@[^>]+>\s*/, ""),
          title: "Fix the login page 500",
          args: [{ name: "slackThread", value: `${CHANNEL}/${(mention.payload.event as { ts: string }).ts}` }],
          target: { targetRepo: REPO.url, targetBranch: REPO.branch },
        });
        return `${workOrderId}`;
      },
      { settle: false },
    );

    await step("Convex", "reconcile:launch, the action the create scheduled", "starts the order's workflow on Temporal", async () => "ran (a scheduled action answers no one)");

    const running = {
      file: "(demo)",
      source: "events" as const,
      payload: {
        type: "work_order.status.changed",
        timestamp: new Date().toISOString(),
        data: { workOrderId, status: "running", reason: "workflow codex-implement picked up by worker codex-7f9c" },
      },
    };
    await step("Workflow runner", "POST /webhooks/events", "work_order.status.changed → running (Standard Webhooks)", () => deliver(running, `msg_${crypto.randomUUID().replaceAll("-", "")}`));

    const push = fixture("github/04-push.json");
    push.payload = { ...push.payload, ref: `refs/heads/${REPO.branch}` };
    await step("GitHub", "POST /webhooks/github", `push: 1 commit to Codertocat/Hello-World@${REPO.branch}`, () => deliver(push));

    const opened = fixture("github/03-pull_request-opened.json");
    await step("GitHub", "POST /webhooks/github", `pull_request opened from ${REPO.branch}`, () => deliver(opened));

    const merged = fixture("github/05-pull_request-merged.json");
    await step("GitHub", "POST /webhooks/github", "pull_request closed, merged", () => deliver(merged));

    const status = fixture("slack/15-alice-asks-status.json");
    await step("Slack", "POST /webhooks/slack", `/jangar status by ${ALICE}: a slash command, answered in its reply`, () =>
      deliver(status, `${Date.now()}.7711034220.demo`),
    );

    await step(
      "Convex",
      "outbox/destinations/slack:sendNext, the channel's runner",
      "posts to a channel go out a second apart: the card catches up with the order",
      async () => {
        await untilOutboxIsSent(t);
        return "ran (a scheduled action answers no one)";
      },
      { settle: false },
    );

    await step(
      "Jangar's server",
      "workOrders:get",
      "the order with its args, target and links",
      async () => {
        const order = await service.query(api.workOrders.get, { workOrderId: workOrderId! });
        return `${order?.status}; args ${order?.args.map((arg) => arg.name).join(", ")}; target ${order?.target?.targetRepo}@${order?.target?.targetBranch}; ${order?.links.length} links`;
      },
      { settle: false },
    );

    await githubComment(t, service, taken, sessionId!);
  } finally {
    unstage();
  }
  const changes = await t.run(
    async (ctx) =>
      await ctx.db
        .query("work_order_status_changes")
        .withIndex("by_workOrderId_changedAt", (q) => q.eq("workOrderId", workOrderId!))
        .collect(),
  );
  const history = changes.map((change) => `${change.to} (${change.source})`);
  return { steps: taken.steps, history, sessionId: sessionId!, workOrderId: workOrderId!, temporal, slack, github, jangar };
}
