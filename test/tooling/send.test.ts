// @vitest-environment node
import { createServer, type Server } from "node:http";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { isRejected, loadFixtures, send, summarize, type Result } from "../../scripts/lib/send";
import { main } from "../../scripts/send";
import { modulesUnderTest, newBackend } from "../helpers/backend";
import { GITHUB_SECRET } from "../helpers/senders/github";
import { runInProcess, runScript } from "../helpers/scripts";
import { closeServer, listen, serveOnLoopback } from "../helpers/loopback";
import { withFakeClock } from "../helpers/clock";

const SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const EVENTS_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const secrets = { github: GITHUB_SECRET, slack: SLACK_SECRET, events: EVENTS_SECRET };

let server: Server | undefined;
// Scheduled processing would otherwise run beside the next request; convex-test runs one function at a time.
withFakeClock({ toFake: ["setTimeout", "clearTimeout"] });
beforeEach(() => {
  vi.stubEnv("SLACK_SIGNING_SECRET", SLACK_SECRET);
  vi.stubEnv("EVENTS_WEBHOOK_SECRET", EVENTS_SECRET);
});
afterEach(async () => {
  if (server !== undefined) {
    await closeServer(server);
    server = undefined;
  }
});

const outcomes = (results: Result[]) => results.map((result) => `${result.status} ${result.outcome}`).sort();

describe("npm run send, end to end over HTTP", () => {
  test("every shipped fixture is signed as its sender does and accepted", async () => {
    const t = newBackend();
    const running = await serveOnLoopback(t);
    server = running.server;
    const fixtures = loadFixtures(["fixtures/github", "fixtures/slack", "fixtures/events"]);
    expect(new Set(fixtures.map((fixture) => fixture.source))).toEqual(new Set(["github", "slack", "events"]));
    const results = await send(fixtures, { url: running.url, secrets, repeat: 1, unique: false, concurrency: 4 }, () => {});
    expect(results.filter(isRejected)).toEqual([]);
    expect(results).toHaveLength(fixtures.length);
    for (const result of results) {
      expect(["accepted", "ignored", "challenge", "answered"]).toContain(result.outcome);
    }
    // The form-encoded ones: a click is accepted, a slash command answered with its reply.
    const outcomeOf = (file: string) => results.find((result) => result.file.endsWith(file))?.outcome;
    expect([outcomeOf("14-alice-clicks-cancel.json"), outcomeOf("15-alice-asks-status.json")]).toEqual(["accepted", "answered"]);
    expect(summarize(results)).toMatch(new RegExp(`^${fixtures.length} sent: `));
  });

  test("repeating a delivery resends it with the same ids: the copies are duplicates", async () => {
    const t = newBackend();
    const running = await serveOnLoopback(t);
    server = running.server;
    const fixtures = loadFixtures(["fixtures/github/04-push.json", "fixtures/slack/03-bob-replies.json", "fixtures/events/01-work_order-running.json"]);
    const results = await send(fixtures, { url: running.url, secrets, repeat: 3, unique: false, concurrency: 1 }, () => {});
    expect(outcomes(results)).toEqual([
      "200 accepted",
      "200 accepted",
      "200 accepted",
      "200 duplicate",
      "200 duplicate",
      "200 duplicate",
      "200 duplicate",
      "200 duplicate",
      "200 duplicate",
    ]);
    const stored = await t.run(async (ctx) => (await ctx.db.query("webhook_deliveries").collect()).length);
    expect(stored).toBe(3);
  });

  test("with --unique each repetition is a new delivery", async () => {
    const t = newBackend();
    const running = await serveOnLoopback(t);
    server = running.server;
    const fixtures = loadFixtures(["fixtures/github/01-ping.json"]);
    const results = await send(fixtures, { url: running.url, secrets, repeat: 4, unique: true, concurrency: 2 }, () => {});
    expect(outcomes(results)).toEqual(Array(4).fill("200 accepted"));
  });

  test("a wrong secret is rejected with 401 for every sender", async () => {
    const t = newBackend();
    const running = await serveOnLoopback(t);
    server = running.server;
    const fixtures = loadFixtures(["fixtures/github/01-ping.json", "fixtures/slack/03-bob-replies.json", "fixtures/events/01-work_order-running.json"]);
    const wrong = { github: "not the secret", slack: "0".repeat(32), events: "whsec_bm90IHRoZSBldmVudHMgc2VjcmV0IGF0IGFsbA==" };
    const results = await send(fixtures, { url: running.url, secrets: wrong, repeat: 1, unique: false, concurrency: 1 }, () => {});
    expect(results.map((result) => result.status)).toEqual([401, 401, 401]);
    expect(results.every(isRejected)).toBe(true);
    expect(await t.run(async (ctx) => (await ctx.db.query("webhook_deliveries").collect()).length)).toBe(0);
  });

  test("a sender without a secret is refused before anything is sent, naming the setting", async () => {
    const fixtures = loadFixtures(["fixtures/events/01-work_order-running.json"]);
    const fetch = vi.fn<typeof globalThis.fetch>();
    await expect(
      send(fixtures, { url: "http://127.0.0.1:9", secrets: {}, repeat: 1, unique: false, concurrency: 1, fetch }, () => {}),
    ).rejects.toThrow(/EVENTS_WEBHOOK_SECRET/);
    expect(fetch).not.toHaveBeenCalled();
  });
});

describe("npm run send: mistakes end in one line that says what to do", () => {
  test.each([
    [["missing.json"], /^send: missing\.json does not exist: give fixture files or directories, e\.g\. fixtures\/github\.$/],
    [["fixtures/github/01-ping.json", "--repeat", "0"], /^send: --repeat takes a whole number of at least 1\.$/],
    [["fixtures/github/01-ping.json", "--bogus"], /^send: Unknown option '--bogus'.* See --help\.$/],
    [["fixtures/github/01-ping.json", "--url", "happy-otter"], /^send: "happy-otter" is not a URL: give the deployment's site URL/],
    [["fixtures/events/01-work_order-running.json"], /^send: No secret for events: set EVENTS_WEBHOOK_SECRET or pass --events-secret\.$/],
    [["README.md"], /^send: No \.json fixture in README\.md\.$/],
    [["package.json"], /^send: package\.json: not a fixture/],
    [[], /^send: no fixtures given/],
  ])("npm run send -- %j", async (args, message) => {
    expect(await runInProcess("send", main, args)).toEqual({ code: 2, out: [], err: [expect.stringMatching(message)] });
  });

  test("nothing listening: one delivery is tried, then one line names the URL and how to start a deployment", async () => {
    const server = createServer();
    const url = await listen(server);
    await closeServer(server);
    const run = await runInProcess("send", main, ["fixtures/github", "--url", url], { GITHUB_WEBHOOK_SECRET: GITHUB_SECRET });
    expect(run.code).toBe(1);
    expect(run.out).toEqual([expect.stringMatching(/^ {2}0 unreachable: fetch failed \(ECONNREFUSED\)/), expect.stringMatching(/^1 sent: 1 rejected/)]);
    expect(run.err).toEqual([
      `send: nothing answers at ${url}: start a deployment first, npm run serve (an embedded one, no download) or npm run dev, or give the deployment's site URL with --url.`,
    ]);
  });

  test("--url given without -- (npm keeps it) is named, with the command to type, before any fixture is read", async () => {
    const env = { npm_lifecycle_event: "send", npm_config_url: "true" };
    expect(await runInProcess("send", main, ["http://127.0.0.1:3211", "fixtures/github"], env)).toEqual({
      code: 2,
      out: [],
      err: ["send: npm took --url for itself, so the tool never saw it: add -- before the options, as in npm run send -- --url http://127.0.0.1:3211 fixtures/github"],
    });
  });

  // The script itself, as npm runs it (the same in both runs of the suite, so once).
  test.skipIf(modulesUnderTest === "bundle")("run as a script, a missing fixture is one line on stderr and exit 2, no stack", async () => {
    const run = await runScript("send.ts", ["missing.json"]);
    expect(run).toEqual({ code: 2, stdout: "", stderr: "send: missing.json does not exist: give fixture files or directories, e.g. fixtures/github.\n" });
  });
});
