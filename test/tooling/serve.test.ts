// @vitest-environment node
import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { ConvexError } from "convex/values";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { connectHttp, generateServiceKey, serviceTokens } from "../../client";
import { api } from "../../convex/_generated/api";
import { unsignedJwt } from "../../scripts/lib/serve/auth";
import { msUntilNextRun, runCrons, type CronJob } from "../../scripts/lib/serve/crons";
import { serve, type Served } from "../../scripts/lib/serve/server";
import { DEVELOPMENT_ADMIN_KEY, DEVELOPMENT_DEFAULTS, DEVELOPMENT_SERVICE } from "../../scripts/lib/serve/settings";
import { modulesUnderTest } from "../helpers/backend";
import { runScript } from "../helpers/scripts";

/*
 * `npm run serve` end to end: the server started once, on free ports, and
 * reached only as its users reach it: the `convex` package's own
 * ConvexHttpClient, the Convex CLI's wire format, and the command-line tools
 * run as npm runs them.
 */

const modules = import.meta.glob("../../convex/**/*.*s");
let served: Served;

// `npm run serve` serves the sources, so this file runs once, in the suite's run on the sources.
const onSources = modulesUnderTest === "source";
beforeAll(async () => {
  if (onSources) served = await serve({ modules, given: {}, functionsPort: 0, sitePort: 0 });
});
afterAll(async () => {
  await served?.close();
});

const client = () => new ConvexHttpClient(served.functionsUrl, { logger: false });
const asUser = (subject: string) => {
  const user = client();
  user.setAuth(unsignedJwt({ iss: "https://auth.example", sub: subject }));
  return user;
};
/** The service client's wire format: an admin key and the identity it acts as (`setAdminAuth`, internal in the convex package). */
const asService = (adminKey = DEVELOPMENT_ADMIN_KEY) => {
  const service = client() as ConvexHttpClient & { setAdminAuth: (key: string, identity?: object) => void };
  service.setAdminAuth(adminKey, DEVELOPMENT_SERVICE);
  return service;
};
const inboxStatus = makeFunctionReference<"query", Record<string, never>, { counts: { source: string; status: string; count: number }[] }>("ingest:inboxStatus");

/** Waits (boundedly) until `ready` holds: scheduled work runs on the server's own timers. */
async function eventually<T>(read: () => Promise<T>, ready: (value: T) => boolean): Promise<T> {
  for (let tries = 0; ; tries += 1) {
    const value = await read();
    if (ready(value) || tries === 100) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.runIf(onSources)("npm run serve: the functions through ConvexHttpClient", () => {
  test("a user (setAuth with a JWT) creates a session and reads it back; another user does not see it", async () => {
    const alice = asUser("alice");
    const sessionId = await alice.mutation(api.chatSessions.create, { title: "Fix the login page" });
    expect(await alice.query(api.chatSessions.get, { sessionId })).toMatchObject({ _id: sessionId, title: "Fix the login page", userId: "alice" });
    expect(await asUser("bob").query(api.chatSessions.get, { sessionId })).toBeNull();
  });

  test("a ConvexError arrives as a ConvexError with its data; so does a missing sign-in", async () => {
    const error = await asUser("alice").mutation(api.chatSessions.create, { title: "x", userId: "bob" }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConvexError);
    expect((error as ConvexError<{ code: string; message: string }>).data).toEqual({ code: "INVALID_ARGUMENT", message: expect.stringMatching(/userId may only name yourself \(alice\)/) });
    const anonymous = await client().query(api.chatSessions.list, { paginationOpts: { numItems: 1, cursor: null } }).catch((caught: unknown) => caught);
    expect((anonymous as ConvexError<{ code: string }>).data.code).toBe("UNAUTHENTICATED");
  });

  test("the service client (connectHttp with its own signed tokens) acts as Jangar's server, and as one of its users", async () => {
    const tokens = await serviceTokens((await generateServiceKey()).privateKey);
    const jangar = connectHttp(served.functionsUrl, tokens, { logger: false });
    const sessionId = await jangar.chatSessions.create({ title: "Deploy", userId: "dana" });
    expect(await asUser("dana").query(api.chatSessions.get, { sessionId })).toMatchObject({ userId: "dana", title: "Deploy" });
    const asDana = connectHttp(served.functionsUrl, tokens, { logger: false, as: "dana" });
    expect(await asDana.chatSessions.get({ sessionId })).toMatchObject({ userId: "dana" });
    await expect(asDana.chatSessions.create({ title: "x", userId: "erin" })).rejects.toThrow(ConvexError);
  });

  test("a service (the admin key acting as the listed identity, or its own JWT) acts for any user", async () => {
    const sessionId = await asService().mutation(api.chatSessions.create, { title: "For Carol", userId: "carol" });
    expect(await asUser("carol").query(api.chatSessions.get, { sessionId })).toMatchObject({ userId: "carol" });
    const byJwt = client();
    byJwt.setAuth(unsignedJwt({ iss: DEVELOPMENT_SERVICE.issuer, sub: DEVELOPMENT_SERVICE.subject }));
    const page = await byJwt.query(api.chatSessions.list, { userId: "carol", paginationOpts: { numItems: 10, cursor: null } });
    expect(page.page.map((session) => session._id)).toContain(sessionId);
  });

  test("a mutation asked for as a query, or a call with a body that is not Convex's, is refused with what to send", async () => {
    const asQuery = makeFunctionReference<"query">("chatSessions:create");
    await expect(asUser("alice").query(asQuery, { title: "x" })).rejects.toThrow(/as a query, but it is defined as a mutation: call \/api\/mutation/);
    const response = await fetch(`${served.functionsUrl}/api/query`, { method: "POST", body: "not json" });
    expect(response.status).toBe(400);
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(await response.json()).toEqual({ code: "BadJsonBody", message: expect.stringMatching(/send \{ path, format: "convex_encoded_json", args \}/) });
  });

  test("internal functions answer the admin key only, as `npx convex run` calls them (POST /api/function); a wrong key is refused", async () => {
    const refused = await asUser("alice").query(inboxStatus, {}).catch((caught: Error) => caught.message);
    expect(refused).toMatch(/Could not find public function for 'ingest:inboxStatus'/);
    const admin = client() as ConvexHttpClient & { setAdminAuth: (key: string) => void; function: (ref: unknown, componentPath: undefined, args: object) => Promise<unknown> };
    admin.setAdminAuth(DEVELOPMENT_ADMIN_KEY);
    expect(await admin.function(inboxStatus, undefined, {})).toMatchObject({ counts: expect.arrayContaining([{ source: "github", status: "accepted", count: expect.any(Number) }]) });
    const wrongKey = await asService("jangar-serve|not-the-key").query(api.chatSessions.list, { paginationOpts: { numItems: 1, cursor: null } }).catch((caught: Error) => caught.message);
    expect(wrongKey).toMatch(/BadAdminKey/);
  });
});

describe.runIf(onSources)("npm run serve: the site, with the command-line tools run as npm runs them", () => {
  const secrets = {
    GITHUB_WEBHOOK_SECRET: DEVELOPMENT_DEFAULTS.GITHUB_WEBHOOK_SECRET,
    SLACK_SIGNING_SECRET: DEVELOPMENT_DEFAULTS.SLACK_SIGNING_SECRET,
    EVENTS_WEBHOOK_SECRET: DEVELOPMENT_DEFAULTS.EVENTS_WEBHOOK_SECRET,
  };

  test("npm run send of every fixture is accepted with the README's secrets, and processing runs on its own", async () => {
    const sent = await runScript("send.ts", ["fixtures/github", "fixtures/slack", "fixtures/events", "--url", served.siteUrl], secrets);
    expect(sent.stderr).toBe("");
    expect(sent.code).toBe(0);
    expect(sent.stdout).toMatch(/^31 sent: .*; p50/m);
    const admin = asService();
    const status = await eventually(
      () => admin.query(inboxStatus, {}),
      (answer) => answer.counts.every((count) => count.status !== "accepted" || count.count === 0),
    );
    expect(status.counts.filter((count) => count.status === "accepted" && count.count > 0)).toEqual([]);
    expect(status.counts.filter((count) => count.status === "failed" && count.count > 0)).toEqual([]);
    // The Slack mention started a session, and its reply card went to the fake Slack.
    const sessions = await admin.query(api.chatSessions.list, { userId: "slack:T0ACME:U01ALICE", paginationOpts: { numItems: 5, cursor: null } });
    expect(sessions.page.length).toBeGreaterThan(0);
    // The comments mentioning @jangar (the README's GITHUB_APP_SLUG) started sessions for their author.
    const commented = await admin.query(api.chatSessions.list, { userId: "github:Codertocat", paginationOpts: { numItems: 5, cursor: null } });
    expect(commented.page.map((session) => session.title).sort()).toEqual(["Spelling error in the README file", "Update the README with new information."]);
  });

  test("npm run smoke passes every route; npm run doctor reads the settings and exits 0", async () => {
    const smoked = await runScript("smoke.ts", ["--url", served.siteUrl], secrets);
    expect(smoked.code).toBe(0);
    expect(smoked.stdout.trim().split("\n").at(-1)).toBe("smoke: 4 passed.");
    const doctor = await runScript("doctor.ts", ["--url", served.functionsUrl]);
    expect(doctor.stderr).toBe("");
    expect(doctor.code).toBe(0);
    expect(doctor.stdout).toMatch(/^ok\s+GitHub in\s+/m);
    expect(doctor.stdout).toMatch(/^ok\s+Temporal\s+/m);
    expect(doctor.stdout).toMatch(/^ok\s+GitHub comments\s+/m);
    expect(doctor.stdout).toMatch(/^off\s+GitHub App\s+.*\n\s+to turn it on: npx convex env set GITHUB_APP_ID <value>, and so GITHUB_APP_PRIVATE_KEY \(docs\/environment\.md\)$/m);
    expect(doctor.stdout).not.toContain(DEVELOPMENT_DEFAULTS.EVENTS_WEBHOOK_SECRET.slice(6, 14));
  });
});

describe("npm run serve: crons on their schedules", () => {
  test("intervals every period; hourly and daily at their UTC minute; the rest not kept", () => {
    const at = Date.UTC(2026, 4, 2, 3, 10);
    expect(msUntilNextRun({ type: "interval", minutes: 5 }, at)).toBe(5 * 60_000);
    expect(msUntilNextRun({ type: "daily", hourUTC: 3, minuteUTC: 17 }, at)).toBe(7 * 60_000);
    expect(msUntilNextRun({ type: "daily", hourUTC: 3, minuteUTC: 5 }, at)).toBe((24 * 60 - 5) * 60_000);
    expect(msUntilNextRun({ type: "hourly", minuteUTC: 0 }, at)).toBe(50 * 60_000);
    expect(msUntilNextRun({ type: "cron" }, at)).toBeNull();
  });

  test("each job runs its function on its interval, a failed run is logged and the job runs again", async () => {
    vi.useFakeTimers();
    try {
      const runs: string[] = [];
      const logged: string[] = [];
      const jobs: Record<string, CronJob> = {
        sweep: { name: "reconcile:sweep", args: [{}], schedule: { type: "interval", minutes: 5 } },
        weekly: { name: "x:y", args: [{}], schedule: { type: "weekly" } },
      };
      const runner = runCrons(jobs, async (path) => {
        runs.push(path);
        if (runs.length === 1) throw new Error("boom");
      }, (line) => logged.push(line));
      expect(runner.skipped).toEqual(["weekly"]);
      await vi.advanceTimersByTimeAsync(5 * 60_000);
      await vi.advanceTimersByTimeAsync(5 * 60_000);
      expect(runs).toEqual(["reconcile:sweep", "reconcile:sweep"]);
      expect(logged).toEqual(['cron "sweep" (reconcile:sweep) failed: boom']);
      runner.stop();
      await vi.advanceTimersByTimeAsync(5 * 60_000);
      expect(runs).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe.runIf(onSources)("npm run serve: starting", () => {
  test("a port already taken (npm run dev, another serve) is named, with what to do, and nothing is left changed", async () => {
    const before = process.env.GITHUB_WEBHOOK_SECRET;
    const port = Number(new URL(served.functionsUrl).port);
    await expect(serve({ modules, given: {}, functionsPort: port, sitePort: 0 })).rejects.toThrow(
      /a port is taken .*: is npm run dev or another npm run serve running\? Stop it, or pass --port and --site-port\./,
    );
    expect(process.env.GITHUB_WEBHOOK_SECRET).toBe(before);
  });

  test("a malformed JANGAR_EVENTS_SECRET for the fake Jangar server is named, with what to set, before anything starts", async () => {
    await expect(serve({ modules, given: { JANGAR_EVENTS_SECRET: "not-a-secret" }, functionsPort: 0, sitePort: 0 })).rejects.toThrow(
      /^JANGAR_EVENTS_SECRET: the secret does not start with whsec_\. Set it to whsec_ followed by a base64 key/,
    );
  });
});

describe.runIf(onSources)("the fake Slack round trip is an npm script", () => {
  test("npm run fake-slack runs scripts/fake-slack.ts, whose --help names the npm script", async () => {
    const scripts = (await import("../../package.json")).scripts as Record<string, string>;
    expect(scripts["fake-slack"]).toBe("tsx scripts/fake-slack.ts");
    const help = await runScript("fake-slack.ts", ["--help"]);
    expect(help).toMatchObject({ code: 0, stdout: expect.stringMatching(/^usage: npm run fake-slack -- \[--serve/) });
  });
});
