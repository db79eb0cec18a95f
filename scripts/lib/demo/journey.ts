import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { TestConvex } from "convex-test";
import { api } from "../../../convex/_generated/api";
import type { Id, TableNames } from "../../../convex/_generated/dataModel";
import schema from "../../../convex/schema";
import { readFixture, signedRequest, type Fixture } from "../send";
import { FakeGitHub } from "../../../fakes/github";
import { fetchFrom } from "../../../fakes/http";
import { FakeSlack } from "../../../fakes/slack";
import { FakeTemporal } from "../../../fakes/temporal";
import { FakeJangar } from "../../../fakes/jangar";
import { connectHttp, eventVerifier, generateServiceKey, serviceTokens } from "../../../client";
import { convexModules } from "../modules";
import { answerFunctionCall } from "../serve/functionsApi";

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

export type DemoBackend = TestConvex<typeof schema>;

export type DemoStep = {
  actor: string;
  request: string;
  detail?: string;
  answer: string;
  /** Requests the deployment made to Temporal, Slack and Jangar's server during the step. */
  calls: string[];
  /** Documents inserted, changed and removed, per table. */
  records: string;
  status: string;
};

/** The deployment's settings in the demo: every sender, Temporal launching, a Slack bot. */
export const DEMO_SETTINGS = {
  JANGAR_SERVICE_IDENTITIES: "https://jangar.internal|jangar-server",
  GITHUB_WEBHOOK_SECRET: "demo-github-secret",
  SLACK_SIGNING_SECRET: "demo-slack-signing-secret",
  SLACK_BOT_USER_ID: "U0JANGAR",
  SLACK_BOT_TOKEN: "xoxb-demo-bot-token",
  EVENTS_WEBHOOK_SECRET: "whsec_ZGVtby1ldmVudHMtc2lnbmluZy1rZXk=",
  JANGAR_EVENTS_URL: "https://jangar.demo/events",
  JANGAR_EVENTS_SECRET: "whsec_ZGVtby1qYW5nYXItZXZlbnRzLW91dC1rZXk=",
  TEMPORAL_HTTP_URL: "http://temporal.demo:7243",
  TEMPORAL_NAMESPACE: "jangar",
  TEMPORAL_TASK_QUEUE: "codex",
  JANGAR_WORKFLOW_TYPES: "codex-implement",
  // The GitHub App, with the test-only key of fixtures/github-app/, and a fake GitHub API.
  GITHUB_APP_SLUG: "jangar",
  GITHUB_APP_ID: "424242",
  GITHUB_APP_PRIVATE_KEY: readFileSync(new URL("../../../fixtures/github-app/app.pkcs1.pem", import.meta.url), "utf8"),
  GITHUB_API_URL: "https://api.github.demo",
} as const;

const SERVICE = { issuer: "https://jangar.internal", subject: "jangar-server", tokenIdentifier: "https://jangar.internal|jangar-server" };
const REPO = { url: "https://github.com/Codertocat/Hello-World", branch: "changes" };
const TEAM = "T0ACME";
const CHANNEL = "C0AB1";
const ALICE = "U01ALICE";

const fixture = (path: string) => readFixture(fileURLToPath(new URL(`../../../fixtures/${path}`, import.meta.url)));

/** Sets the deployment's settings and routes `fetch` to the fakes; returns how to undo both. */
function stage(temporal: FakeTemporal, slack: FakeSlack, github: FakeGitHub, jangar: FakeJangar, calls: string[]) {
  const saved = Object.fromEntries(Object.keys(DEMO_SETTINGS).map((name) => [name, process.env[name]]));
  Object.assign(process.env, DEMO_SETTINGS);
  const realFetch = globalThis.fetch;
  const names = new Map<unknown, string>([[temporal, "Temporal"], [slack, "Slack"], [github, "GitHub"], [jangar, "Jangar's server"]]);
  globalThis.fetch = fetchFrom<FakeTemporal | FakeSlack | FakeGitHub | FakeJangar>([temporal, slack, github, jangar], async (fake, { method, url }, response) => {
    const answer = (await response.clone().text()).slice(0, 160);
    const event = fake === jangar ? ` ${jangar.calls.at(-1)?.event?.type ?? ""}` : "";
    // A token GitHub issues is a secret: its answer is not shown.
    const shown = url.pathname.endsWith("/access_tokens") ? "(an installation token)" : answer;
    calls.push(`${names.get(fake)} ${method} ${url.pathname}${event} → ${response.status} ${shown}`.trimEnd());
  });
  return () => {
    globalThis.fetch = realFetch;
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

type Tables = Map<string, Map<string, string>>;

async function everyDocument(t: DemoBackend): Promise<Tables> {
  const tables = await t.run(async (ctx) => {
    const documents: Record<string, [string, string][]> = {};
    for (const table of Object.keys(schema.tables) as TableNames[]) {
      documents[table] = (await ctx.db.query(table).collect()).map((document) => [document._id, JSON.stringify(document)]);
    }
    return documents;
  });
  return new Map(Object.entries(tables).map(([table, documents]) => [table, new Map(documents)]));
}

/** `chat_sessions +1, work_orders ~1`: what changed between two snapshots. */
function writes(before: Tables, after: Tables): string {
  const parts: string[] = [];
  for (const [table, documents] of after) {
    const previous = before.get(table) ?? new Map<string, string>();
    const added = [...documents.keys()].filter((id) => !previous.has(id)).length;
    const changed = [...documents].filter(([id, json]) => previous.has(id) && previous.get(id) !== json).length;
    const removed = [...previous.keys()].filter((id) => !documents.has(id)).length;
    const counts = [added && `+${added}`, changed && `~${changed}`, removed && `-${removed}`].filter(Boolean).join(" ");
    if (counts) parts.push(`${table} ${counts}`);
  }
  return parts.length > 0 ? parts.join(", ") : "nothing";
}

/** A webhook delivery's answer, short. */
async function answered(response: Response): Promise<string> {
  return `${response.status} ${(await response.text()).slice(0, 120)}`;
}

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

/**
 * Jangar's server, as the demo plays it: it verifies each event with the
 * service client's verifier (docs/server.md#receiving-events-over-http) and
 * keeps the Slack mentions to answer; it answers them through the service
 * client over Convex's functions API, here the embedded backend's.
 */
async function jangarServer(t: DemoBackend) {
  const verifier = eventVerifier(DEMO_SETTINGS.JANGAR_EVENTS_SECRET);
  const mentions: { sessionId: Id<"chat_sessions">; content: string }[] = [];
  const { privateKey } = await generateServiceKey();
  const modules = convexModules();
  const client = connectHttp("https://demo.convex.cloud", await serviceTokens(privateKey), {
    fetch: async (input, init) => {
      const route = new URL(input instanceof Request ? input.url : String(input)).pathname;
      const headers = new Headers(init?.headers);
      const answer = await answerFunctionCall(t, modules, "", { route, authorization: headers.get("authorization") ?? undefined, body: String(init?.body) });
      return Response.json(answer.body, { status: answer.status });
    },
  });
  const jangar = new FakeJangar({
    baseUrl: DEMO_SETTINGS.JANGAR_EVENTS_URL,
    secrets: [DEMO_SETTINGS.JANGAR_EVENTS_SECRET],
    onEvent: ({ body, headers }) => {
      const { event } = verifier.verify(body, headers);
      if (event.type === "chat.message.created" && event.data.role === "user" && event.data.source === "slack") {
        mentions.push({ sessionId: event.data.sessionId, content: event.data.content });
      }
    },
  });
  return { jangar, mentions, client };
}

/**
 * Waits, in real time, until every Slack post queued is sent: the outbox
 * paces a channel's posts a second apart, so the card's last edit goes out
 * about a second after the one before. Bounded, so a demo never hangs.
 */
async function untilOutboxIsSent(t: DemoBackend, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  const pending = async () =>
    await t.run(async (ctx) => {
      for (const status of ["queued", "sending"] as const) {
        if ((await ctx.db.query("outbox").withIndex("by_status_finishedAt", (q) => q.eq("status", status)).first()) !== null) {
          return true;
        }
      }
      return false;
    });
  while ((await pending()) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    await t.finishAllScheduledFunctions(() => {});
  }
}

export async function runDemo(t: DemoBackend, report: (step: DemoStep) => void = () => {}): Promise<DemoResult> {
  const temporal = new FakeTemporal({ baseUrl: DEMO_SETTINGS.TEMPORAL_HTTP_URL, namespace: DEMO_SETTINGS.TEMPORAL_NAMESPACE });
  const slack = new FakeSlack({ token: DEMO_SETTINGS.SLACK_BOT_TOKEN, channels: [CHANNEL] });
  const github = new FakeGitHub({
    baseUrl: DEMO_SETTINGS.GITHUB_API_URL,
    appId: DEMO_SETTINGS.GITHUB_APP_ID,
    appSlug: DEMO_SETTINGS.GITHUB_APP_SLUG,
    publicKeyPem: readFileSync(new URL("../../../fixtures/github-app/app.public.pem", import.meta.url), "utf8"),
  });
  const { jangar, mentions, client } = await jangarServer(t);
  const calls: string[] = [];
  const unstage = stage(temporal, slack, github, jangar, calls);
  const steps: DemoStep[] = [];
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

  /** One step: run it, let whatever it scheduled run (processing, the launch), then see what changed. */
  const step = async (
    actor: string,
    request: string,
    detail: string | undefined,
    act: () => Promise<string>,
    { settle = true } = {},
  ) => {
    const before = await everyDocument(t);
    calls.length = 0;
    const answer = await act();
    if (settle) {
      await t.finishAllScheduledFunctions(() => {});
    }
    const taken: DemoStep = { actor, request, detail, answer, calls: [...calls], records: writes(before, await everyDocument(t)), status: await statusNow() };
    steps.push(taken);
    report(taken);
  };

  /** Posts a fixture to its route, signed with the deployment's secret, as its sender would. */
  const deliver = async (delivery: Fixture, id: string = crypto.randomUUID()) => {
    const secrets = { github: DEMO_SETTINGS.GITHUB_WEBHOOK_SECRET, slack: DEMO_SETTINGS.SLACK_SIGNING_SECRET, events: DEMO_SETTINGS.EVENTS_WEBHOOK_SECRET };
    const { path, init } = await signedRequest({ fixture: delivery, id }, secrets[delivery.source], Date.now());
    return await answered(await t.fetch(path, init));
  };

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

    const asked = fixture("github/07-pull_request_review_comment-mentions-app.json");
    await step("GitHub", "POST /webhooks/github", `a review comment on pull request #2 through the App: "${(asked.payload.comment as { body: string }).body}"`, () =>
      deliver(asked),
    );

    await step(
      "Jangar's server",
      "chatMessages:append (as a service, role assistant)",
      "the answer: posted as a comment on the pull request, and in Alice's thread",
      async () => {
        const messageId = await service.mutation(api.chatMessages.append, {
          sessionId: sessionId!,
          role: "assistant",
          content: "Done: the README uses the :tada: shortcode now.",
        });
        await untilOutboxIsSent(t);
        return `${messageId}`;
      },
      { settle: false },
    );
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
  return { steps, history, sessionId: sessionId!, workOrderId: workOrderId!, temporal, slack, github, jangar };
}

/** The timeline as printed: one block per step. */
export function formatStep(step: DemoStep, index: number): string[] {
  const number = String(index + 1).padStart(2);
  return [
    `${number}  ${step.actor} → ${step.request}`,
    ...(step.detail ? [`    ${step.detail}`] : []),
    `    ← ${step.answer}`,
    ...step.calls.map((call) => `    ↪ ${call}`),
    `    wrote  ${step.records}`,
    `    now    ${step.status}`,
    "",
  ];
}
