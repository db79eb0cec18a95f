import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api } from "../../convex/_generated/api";
import { FAKE_JANGAR_URL, FakeJangar } from "../../fakes/jangar";
import { FakeSlack } from "../../fakes/slack";
import { TEMPORAL_URL } from "../../fakes/temporal";
import { expectNoPiece, snapshotTables } from "../helpers/assertions";
import { newBackend, type Backend } from "../helpers/backend";
import { asService, asUser } from "../helpers/callers";
import { OUTBOX_ITERATIONS, runDue, settle, withFakeClock } from "../helpers/clock";
import { outboxRows } from "../helpers/outbox/rows";
import { newSession, newWorkOrder, statusHistory } from "../helpers/records";
import { ALICE, BOT_USER, TEAM, configureSlackApp, postSlackEvent } from "../helpers/senders/slack";

/*
 * No secret, nor any 8-character piece of one, in a stored row or a log line,
 * whatever another service answers (docs/contract.md, hardening rules): the
 * real paths where an answer is kept (the Slack outbox's rows and logs, the
 * launcher's logs and an order's status reasons, events out) against
 * services that echo the request's Authorization header back.
 * secretExcerpt.test.ts holds the helper every outbound client cuts answers with.
 */

const SLACK_TOKEN = "xoxb-918273645012-5647382910564-Zq8wLr2VbN4kTy7uXe1sHdPj";
const TEMPORAL_KEY = "tmprl_eyJhbGciOiJFUzI1NiJ9.eyJhY2NvdW50X2lkIjoiYTFiMmMzIn0.c2lnbmF0dXJlLW9mLXRoZS1rZXk";

/** Every line logged while `work` runs, and what it returns. */
async function logsOf<T>(work: () => Promise<T>): Promise<{ logged: string; value: T }> {
  const lines: unknown[] = [];
  for (const level of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void lines.push(args.map(String)));
  }
  const value = await work();
  return { logged: JSON.stringify(lines), value };
}

/** The request's bearer token, as an echoing service sends it back. */
function authorizationOf(init?: RequestInit): string {
  return new Headers(init?.headers).get("authorization") ?? "";
}

/**
 * An HTML error page, as a proxy in front of a service answers, echoing the
 * request's headers: the Authorization header starts 170 characters in, so
 * that a cut at 200 characters falls inside the token.
 */
function echoPage(status: number, init?: RequestInit): Response {
  const head = `<html><head><title>${status}</title></head><body><h1>${status}</h1><p>The request was refused.</p><pre>`;
  const page = `${head.padEnd(170 - "Authorization: ".length, " ")}Authorization: ${authorizationOf(init)}\nUser-Agent: jangar</pre></body></html>`;
  return new Response(page, { status, headers: { "content-type": "text/html" } });
}

/** An `ok: false` answer whose error echoes the Authorization header 70 characters in, so that a cut at 100 falls inside it. */
function echoError(init?: RequestInit): Response {
  return Response.json({ ok: false, error: `invalid_auth: ${"the token is not valid for this workspace".padEnd(56, ".")}${authorizationOf(init)}` });
}

withFakeClock({ now: new Date("2025-05-14T09:00:00Z") });

describe("the Slack outbox keeps no piece of the bot token, whatever Slack answers", () => {
  let slack: FakeSlack;
  /** How the next calls are answered instead of by the fake Slack: one each, in order. */
  let echoes: ((init?: RequestInit) => Response)[];

  beforeEach(() => {
    slack = new FakeSlack({ token: SLACK_TOKEN });
    echoes = [];
    configureSlackApp();
    vi.stubEnv("SLACK_BOT_TOKEN", SLACK_TOKEN);
    vi.stubGlobal("fetch", async (input: RequestInfo | URL, init?: RequestInit) => {
      const echo = echoes.shift();
      expect(authorizationOf(init)).toBe(`Bearer ${SLACK_TOKEN}`);
      return echo === undefined ? await slack.fetch(input, init) : echo(init);
    });
  });
  afterEach(() => {
    expect(slack.violations).toEqual([]);
  });

  /** A session bound to a Slack thread, and an assistant's reply queued for it. */
  async function replyQueued(t: Backend) {
    const ts = `${Math.floor(Date.now() / 1000)}.000100`;
    const mention = await postSlackEvent(t, {
      type: "event_callback",
      team_id: TEAM,
      event_id: "Ev0SECRETS1",
      event_time: Math.floor(Date.now() / 1000),
      event: { type: "app_mention", user: ALICE, text: `<@${BOT_USER}> the login page 500s`, ts, channel: "C0AB1" },
    });
    expect(mention.status).toBe(200);
    await settle(t, OUTBOX_ITERATIONS);
    const [session] = await t.run(async (ctx) => await ctx.db.query("chat_sessions").collect());
    await asService(t).mutation(api.chatMessages.append, { sessionId: session._id, role: "assistant", content: "Looking at it." });
  }

  test.each([
    ["an HTML error page", (init?: RequestInit) => echoPage(403, init), /^Slack answered HTTP 403 without a Web API answer: <html>/],
    ["an ok:false error", echoError, /^invalid_auth: the token is not valid for this workspace\.+Bearer \[SLACK_BOT_TOKEN\]/],
  ])("Slack echoes the Authorization header in %s: the row fails with the answer masked, and nothing stored or logged holds a piece of the token", async (_answer, echo, error) => {
    const t = newBackend();
    const { logged } = await logsOf(async () => {
      await replyQueued(t);
      echoes.push(echo);
      await settle(t, OUTBOX_ITERATIONS);
    });
    expectNoPiece(JSON.stringify(await snapshotTables(t)), SLACK_TOKEN);
    expectNoPiece(logged, SLACK_TOKEN);
    const [row] = await outboxRows(t);
    expect(row).toMatchObject({ status: "failed", error: expect.stringMatching(error) });
    expect(row.error).toContain("[SLACK_BOT_TOKEN]");
  });

  test("a post that may already be in the thread, whose thread read is answered with an echoing error page: the warning holds no piece of the token", async () => {
    const t = newBackend();
    const { logged } = await logsOf(async () => {
      await replyQueued(t);
      // The post gets a 5xx (it may have been made), then the look for it in the thread an echoing 403.
      echoes.push(
        (init) => echoPage(502, init),
        (init) => echoPage(403, init),
      );
      await settle(t, OUTBOX_ITERATIONS);
    });
    expectNoPiece(JSON.stringify(await snapshotTables(t)), SLACK_TOKEN);
    expectNoPiece(logged, SLACK_TOKEN);
    expect(logged).toMatch(/may already be posted, but its thread cannot be read \(Slack answered HTTP 403 without a Web API answer: <html>.*\[SLACK_BOT_TOKEN\]/);
    expect((await outboxRows(t))[0]).toMatchObject({ status: "sent" });
  });
});

describe("the launcher keeps no piece of the Temporal API key, whatever Temporal answers", () => {
  beforeEach(() => {
    vi.stubEnv("TEMPORAL_HTTP_URL", TEMPORAL_URL);
    vi.stubEnv("TEMPORAL_NAMESPACE", "jangar-prod");
    vi.stubEnv("TEMPORAL_API_KEY", TEMPORAL_KEY);
    vi.stubEnv("TEMPORAL_TASK_QUEUE", "codex-agents");
  });

  /** Temporal (or a proxy before it) answering every request with `answer`, made from the request. */
  function temporalAnswering(answer: (init?: RequestInit) => Response) {
    vi.stubGlobal("fetch", async (_input: RequestInfo | URL, init?: RequestInit) => {
      expect(authorizationOf(init)).toBe(`Bearer ${TEMPORAL_KEY}`);
      return answer(init);
    });
  }

  async function launched(t: Backend) {
    const { logged, value: workOrderId } = await logsOf(async () => {
      const workOrderId = await newWorkOrder(t, await newSession(t, "alice"));
      await settle(t);
      return workOrderId;
    });
    return { logged, history: await statusHistory(t, workOrderId) };
  }

  test("Temporal refuses the launch with an INVALID_ARGUMENT that echoes the key: the order fails with the message masked, and no log holds a piece of the key", async () => {
    temporalAnswering((init) => Response.json({ code: 3, message: `bad request from ${authorizationOf(init)}`, details: [] }, { status: 400 }));
    const t = newBackend();
    const { logged, history } = await launched(t);
    expectNoPiece(JSON.stringify(await snapshotTables(t)), TEMPORAL_KEY);
    expectNoPiece(logged, TEMPORAL_KEY);
    expect(history.at(-1)).toMatchObject({ to: "failed", reason: `Temporal refused the launch (400): bad request from Bearer [TEMPORAL_API_KEY]` });
  });

  test("a proxy answers the launch with an HTML page echoing the key: the order stays submitted, and the launcher's warning holds no piece of the key", async () => {
    temporalAnswering((init) => echoPage(502, init));
    const t = newBackend();
    const { logged, history } = await launched(t);
    expectNoPiece(logged, TEMPORAL_KEY);
    expect(history.map(({ to }) => to)).toEqual(["submitted"]);
    expect(logged).toMatch(/stays submitted, to be launched again: Temporal answered 502: <html>.*\[TEMPORAL_API_KEY\]/);
  });

  test("a start answered with a run id that echoes the key: the order is accepted, its reason masked", async () => {
    temporalAnswering((init) => Response.json({ runId: `run-${authorizationOf(init)}` }));
    const t = newBackend();
    const { logged, history } = await launched(t);
    expectNoPiece(JSON.stringify(await snapshotTables(t)), TEMPORAL_KEY);
    expectNoPiece(logged, TEMPORAL_KEY);
    expect(history.at(-1)).toMatchObject({ to: "accepted", reason: `workflow started (run run-Bearer [TEMPORAL_API_KEY])` });
  });
});

describe("events out keep no piece of JANGAR_EVENTS_SECRET, whatever Jangar's server answers", () => {
  const EVENTS_OUT_SECRET = "whsec_c2VjcmV0LW9mLWV2ZW50cy1vdXQtMDEyMzQ1Njc4OQ==";

  beforeEach(() => {
    vi.stubEnv("JANGAR_EVENTS_URL", FAKE_JANGAR_URL);
  });

  test.each([
    ["a server that echoes the secret in its refusals", EVENTS_OUT_SECRET, "failed", /^http_401$/],
    ["a secret that is not one (it stays queued, retried, with why)", "whsec_not-base64-but-a-password-of-ours", "queued", /^bad_secret: JANGAR_EVENTS_SECRET is not a whsec_<base64> key\.$/],
  ])("%s: nothing stored or logged holds a piece of it", async (_case, secret, status, error) => {
    vi.stubEnv("JANGAR_EVENTS_SECRET", secret);
    const jangar = new FakeJangar({ secrets: [EVENTS_OUT_SECRET] });
    jangar.answerNext({ status: 503, body: `busy; expected ${secret}` }, { status: 401, body: { error: `signed with ${secret}?` } });
    vi.stubGlobal("fetch", jangar.fetch);
    const t = newBackend();
    const { logged } = await logsOf(async () => {
      const sessionId = await asService(t).mutation(api.chatSessions.create, { title: "Deploy", userId: "alice" });
      await asUser(t, "alice").mutation(api.chatMessages.append, { sessionId, role: "user", content: "Deploy the API" });
      await runDue(t);
      await runDue(t, 60_000);
    });
    expectNoPiece(JSON.stringify(await snapshotTables(t)), secret);
    expectNoPiece(logged, secret);
    const [row] = await t.run(async (ctx) => await ctx.db.query("outbox").collect());
    expect(row).toMatchObject({ destination: "events", status, error: expect.stringMatching(error) });
  });
});
