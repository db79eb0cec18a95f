/**
 * A full round trip between a Slack thread and Jangar, against a fake Slack
 * Web API served over loopback HTTP: Alice mentions the bot (a signed Events
 * API callback), Jangar's server answers as the assistant and the reply is
 * posted to the thread, Slack's echo of that post is not appended again, and
 * a work order's card is posted and edited in place as the order moves.
 * `scripts/fake-slack.ts` runs it on an embedded backend; a test runs it on
 * the suite's.
 */
import type { convexTest } from "convex-test";
import { api, internal } from "../../convex/_generated/api";
import { signSlackRequest } from "../../src/sources/slack/signature";
import { FAKE_SLACK_TOKEN, FakeSlack, type SlackMessage } from "../../fakes/slack";

type Backend = ReturnType<typeof convexTest>;

export const ROUND_TRIP_SETTINGS = {
  SLACK_SIGNING_SECRET: "8f742231b10e8888abcd99yyyzzz85a5",
  SLACK_BOT_TOKEN: FAKE_SLACK_TOKEN,
  SLACK_BOT_USER_ID: "U0JANGAR",
  JANGAR_SERVICE_IDENTITIES: "https://jangar.internal|jangar-server",
} as const;

const TEAM = "T0ACME";
const CHANNEL = "C0AB1";
const utf8 = new TextEncoder();

/** Runs every scheduled function, waiting on the real clock for those due later (a channel posts once a second). */
async function settle(t: Backend) {
  for (let round = 0; round < 200; round += 1) {
    await t.finishAllScheduledFunctions(() => {});
    const waiting = await t.run(async (ctx) =>
      (await ctx.db.system.query("_scheduled_functions").collect()).filter((job) => job.state.kind === "pending" || job.state.kind === "inProgress"),
    );
    if (waiting.length === 0) {
      return;
    }
    const next = Math.min(...waiting.map((job) => job.scheduledTime));
    await new Promise((resolve) => setTimeout(resolve, Math.max(50, next - Date.now() + 20)));
  }
}

async function postToSlackRoute(t: Backend, envelope: Record<string, unknown>) {
  const body = utf8.encode(JSON.stringify(envelope));
  const timestamp = String(Math.floor(Date.now() / 1000));
  const response = await t.fetch("/webhooks/slack", {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "X-Slack-Request-Timestamp": timestamp,
      "X-Slack-Signature": await signSlackRequest(ROUND_TRIP_SETTINGS.SLACK_SIGNING_SECRET, timestamp, body),
    },
    body,
  });
  return `${response.status} ${await response.text()}`;
}

export type RoundTrip = { thread: SlackMessage[]; sessionMessages: string[]; violations: string[] };

/**
 * The round trip on a backend whose deployment settings include
 * ROUND_TRIP_SETTINGS; SLACK_API_URL is pointed at the fake for its duration.
 */
export async function slackRoundTrip(t: Backend, log: (line: string) => void): Promise<RoundTrip> {
  const slack = new FakeSlack();
  const { url: baseUrl, close } = await slack.serve();
  const previousUrl = process.env.SLACK_API_URL;
  process.env.SLACK_API_URL = baseUrl;
  const seen = { calls: 0 };
  const showSlack = () => {
    for (const call of slack.calls.slice(seen.calls)) {
      const where = call.method === "chat.update" ? `ts ${String(call.args.ts)}` : `thread ${String(call.args.thread_ts)}`;
      log(`  Slack Web API <- ${call.method} ${String(call.args.channel)} ${where}: ${JSON.stringify(call.args.text)}`);
    }
    seen.calls = slack.calls.length;
  };
  try {
    log(`fake Slack Web API listening on ${baseUrl}`);
    const rootTs = `${Math.floor(Date.now() / 1000)}.000100`;
    log(`Alice mentions the bot in ${CHANNEL}: POST /webhooks/slack -> ${await postToSlackRoute(t, {
      type: "event_callback",
      team_id: TEAM,
      event_id: "Ev0ROUNDTRIP1",
      event_time: Math.floor(Date.now() / 1000),
      event: { type: "app_mention", user: "U01ALICE", text: "<@U0JANGAR> the login page 500s, can you look?", ts: rootTs, channel: CHANNEL },
    })}`);
    await settle(t);
    const server_ = t.withIdentity({ issuer: "https://jangar.internal", subject: "jangar-server", tokenIdentifier: ROUND_TRIP_SETTINGS.JANGAR_SERVICE_IDENTITIES });
    const [session] = (await server_.query(api.chatSessions.list, { userId: `slack:${TEAM}:U01ALICE`, paginationOpts: { numItems: 1, cursor: null } })).page;
    log(`  session ${session._id} "${session.title}" bound to the thread`);

    await server_.mutation(api.chatMessages.append, { sessionId: session._id, role: "assistant", content: "Build 4812 changed the auth middleware; starting a fix." });
    log("Jangar's assistant answers in the session (chatMessages:append)");
    await settle(t);
    showSlack();

    const [posted] = slack.thread(CHANNEL, rootTs);
    log(`Slack echoes the bot's post back: POST /webhooks/slack -> ${await postToSlackRoute(t, {
      type: "event_callback",
      team_id: TEAM,
      event_id: "Ev0ROUNDTRIP2",
      event_time: Math.floor(Date.now() / 1000),
      event: { type: "message", user: "U0JANGAR", bot_id: "B0JANGAR", text: posted?.text, ts: posted?.ts, thread_ts: rootTs, channel: CHANNEL },
    })}`);
    await settle(t);

    const workOrderId = await server_.mutation(api.workOrders.create, { sessionId: session._id, workflowType: "codex-implement", prompt: "Fix the auth middleware.", title: "Fix login 500" });
    log(`Jangar's server creates work order ${workOrderId}`);
    await settle(t);
    showSlack();
    await server_.mutation(api.workOrders.updateStatus, { workOrderId, status: "running" });
    await server_.mutation(api.workOrderLinks.add, { workOrderId, kind: "pr", value: "https://github.com/acme/api/pull/12" });
    log("it runs and opens a pull request");
    await settle(t);
    showSlack();
    await server_.mutation(api.workOrders.updateStatus, { workOrderId, status: "succeeded" });
    log("it succeeds");
    await settle(t);
    showSlack();

    const messages = await server_.query(api.chatMessages.listBySession, { sessionId: session._id, paginationOpts: { numItems: 20, cursor: null } });
    const outbox = await t.query(internal.outbox.status, {});
    log(`the thread as Slack holds it: ${slack.thread(CHANNEL, rootTs).map((message) => JSON.stringify(message.text) + (message.edits ? ` (edited ${message.edits}x)` : "")).join(", ")}`);
    log(`the session: ${messages.page.map((message) => message.role).join(", ")}; outbox: ${outbox.counts.map(({ destination, status, count }) => `${destination} ${status} ${count}`).join(", ")}`);
    return {
      thread: slack.thread(CHANNEL, rootTs),
      sessionMessages: messages.page.map((message) => `${message.role}: ${message.content}`),
      violations: slack.violations,
    };
  } finally {
    if (previousUrl === undefined) delete process.env.SLACK_API_URL;
    else process.env.SLACK_API_URL = previousUrl;
    await close();
  }
}
