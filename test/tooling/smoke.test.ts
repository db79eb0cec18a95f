// @vitest-environment node
import { createServer, type Server } from "node:http";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import type { Secrets } from "../../scripts/lib/send";
import { formatCheck, smoke, smokeFailed, type Check } from "../../scripts/lib/smoke";
import { main } from "../../scripts/smoke";
import { newBackend, type Backend } from "../helpers/backend";
import { domainTables } from "../helpers/assertions";
import { withFakeClock, settle } from "../helpers/clock";
import { runInProcess } from "../helpers/scripts";
import { EVENTS_SECRET } from "../helpers/senders/events";
import { GITHUB_SECRET } from "../helpers/senders/github";
import { closeServer, listen, serveOnLoopback } from "../helpers/loopback";
import { SLACK_SECRET } from "../helpers/senders/slack";

const secrets = { github: GITHUB_SECRET, slack: SLACK_SECRET, events: EVENTS_SECRET };

const servers: Server[] = [];
// Processing runs when a test settles it, not beside the next request.
withFakeClock({ toFake: ["setTimeout", "clearTimeout"] });
beforeEach(() => {
  vi.stubEnv("SLACK_SIGNING_SECRET", SLACK_SECRET);
  vi.stubEnv("EVENTS_WEBHOOK_SECRET", EVENTS_SECRET);
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map(closeServer));
});

async function deployment(t: Backend = newBackend()) {
  const running = await serveOnLoopback(t);
  servers.push(running.server);
  return { t, url: running.url };
}

async function check(url: string, given: Secrets = secrets) {
  const lines: string[] = [];
  const checks = await smoke({ url, secrets: given }, (result) => lines.push(formatCheck(result)));
  return { checks, lines, failed: smokeFailed(checks) };
}

const verdicts = (checks: Check[]) => checks.map((result) => `${result.name} ${result.ok === null ? "skip" : result.ok ? "ok" : "FAIL"} ${result.status ?? "-"}`);

describe("npm run smoke, end to end over HTTP", () => {
  test("a deployment with every secret set passes: /healthz, then one request per sender that changes nothing", async () => {
    const { t, url } = await deployment();
    const before = await domainTables(t);
    const { checks, lines, failed } = await check(url);
    await settle(t);

    expect(verdicts(checks)).toEqual(["healthz ok 200", "github ok 200", "slack ok 200", "events ok 200"]);
    expect(failed).toBe(false);
    expect(lines).toEqual([
      expect.stringMatching(/^ok\s+healthz 200\s+the deployment answers/),
      expect.stringMatching(/^ok\s+github\s+200\s+ping accepted/),
      expect.stringMatching(/^ok\s+slack\s+200\s+url_verification answered/),
      expect.stringMatching(/^ok\s+events\s+200\s+jangar\.smoke ignored/),
    ]);
    expect(await domainTables(t)).toEqual(before);
    const deliveries = await t.run(async (ctx) => await ctx.db.query("webhook_deliveries").collect());
    expect(deliveries.map((delivery) => `${delivery.source} ${delivery.event} ${delivery.status}`).sort()).toEqual([
      "events jangar.smoke ignored",
      "github ping processed",
      "slack url_verification ignored",
    ]);
  });

  test("a secret not set on the deployment is reported as such, and the check fails", async () => {
    vi.stubEnv("EVENTS_WEBHOOK_SECRET", "");
    const { url } = await deployment();
    const { checks, lines, failed } = await check(url);
    expect(verdicts(checks)).toEqual(["healthz ok 200", "github ok 200", "slack ok 200", "events FAIL 503"]);
    expect(lines[3]).toMatch(/^FAIL\s+events\s+503\s+secret not set on the deployment: npx convex env set EVENTS_WEBHOOK_SECRET <secret>/);
    expect(failed).toBe(true);
  });

  test("a secret that differs from the deployment's is reported as such (401)", async () => {
    const { url } = await deployment();
    const { checks, lines, failed } = await check(url, { ...secrets, slack: "0".repeat(32) });
    expect(verdicts(checks)).toEqual(["healthz ok 200", "github ok 200", "slack FAIL 401", "events ok 200"]);
    expect(lines[2]).toMatch(/^FAIL\s+slack\s+401\s+secret differs: the deployment's SLACK_SIGNING_SECRET is not the secret given here/);
    expect(failed).toBe(true);
  });

  test("a sender whose secret is not given could not be checked, and that fails the check", async () => {
    const { url } = await deployment();
    const { checks, lines, failed } = await check(url, { github: GITHUB_SECRET });
    expect(verdicts(checks)).toEqual(["healthz ok 200", "github ok 200", "slack skip -", "events skip -"]);
    expect(lines[2]).toMatch(/^NOT\s+slack\s+not checked: no secret given \(--slack-secret or SLACK_SIGNING_SECRET\), or skip it by name$/);
    expect(failed).toBe(true);
  });

  test("a sender skipped by name is not checked, and that is not a failure", async () => {
    const { url } = await deployment();
    const lines: string[] = [];
    const checks = await smoke({ url, secrets: { github: GITHUB_SECRET }, skip: ["slack", "events"] }, (result) => lines.push(formatCheck(result)));
    expect(lines.slice(2)).toEqual([expect.stringMatching(/^skip\s+slack\s+skipped, as asked/), expect.stringMatching(/^skip\s+events\s+skipped, as asked/)]);
    expect(smokeFailed(checks)).toBe(false);
  });

  test("nothing listening: /healthz fails as unreachable and nothing else is tried", async () => {
    const server = createServer();
    const url = await listen(server);
    await closeServer(server);
    const { checks, lines, failed } = await check(url);
    expect(verdicts(checks)).toEqual(["healthz FAIL -"]);
    expect(lines[0]).toMatch(/^FAIL\s+healthz\s+unreachable \(ECONNREFUSED\): check the URL, and that the deployment is up/);
    expect(failed).toBe(true);
  });

  test("a URL that is not the site URL (no /healthz there) is named as the likely mistake", async () => {
    const server = createServer((_, response) => response.writeHead(404).end("No such route"));
    servers.push(server);
    const url = await listen(server);
    const { checks, lines } = await check(url);
    expect(verdicts(checks)).toEqual(["healthz FAIL 404"]);
    expect(lines[0]).toMatch(/no \/healthz at .*: give the deployment's site URL \(https:\/\/<deployment>\.convex\.site, not …convex\.cloud\)/);
  });
});

describe("npm run smoke: the command", () => {
  test("one line per check and a summary; exit 0 when all pass, 1 on any problem, with secrets from the variables", async () => {
    const { url } = await deployment();
    const passing = await runInProcess("smoke", main, ["--url", url], {
      GITHUB_WEBHOOK_SECRET: GITHUB_SECRET,
      SLACK_SIGNING_SECRET: SLACK_SECRET,
      EVENTS_WEBHOOK_SECRET: EVENTS_SECRET,
    });
    expect(passing.code).toBe(0);
    expect(passing.out).toEqual([`smoke: checking ${url}`, expect.stringMatching(/^ok/), expect.stringMatching(/^ok/), expect.stringMatching(/^ok/), expect.stringMatching(/^ok/), "smoke: 4 passed."]);

    const failing = await runInProcess("smoke", main, ["--url", url, "--github-secret", "not the secret"]);
    expect(failing.code).toBe(1);
    expect(failing.out.at(-1)).toBe(
      "smoke: 1 check(s) failed, 1 passed, 2 not checked (slack, events). A route not checked is not a pass: give its secret (--slack-secret, --events-secret), or skip it by name (--skip slack,events).",
    );
  });

  test("a route that could not be checked exits non-zero; skipped by name, it does not", async () => {
    const { url } = await deployment();
    const unchecked = await runInProcess("smoke", main, ["--url", url, "--github-secret", GITHUB_SECRET]);
    expect(unchecked.code).toBe(1);
    expect(unchecked.out.at(-1)).toMatch(/^smoke: 2 passed, 2 not checked \(slack, events\)\. A route not checked is not a pass/);
    const skipped = await runInProcess("smoke", main, ["--url", url, "--github-secret", GITHUB_SECRET, "--skip", "slack,events"]);
    expect(skipped.code).toBe(0);
    expect(skipped.out.at(-1)).toBe("smoke: 2 passed, 2 skipped as asked.");
  });

  test("--url given without -- (npm keeps it for itself) is named, with the command to type", async () => {
    const env = { npm_lifecycle_event: "smoke", npm_config_url: "true" };
    expect(await runInProcess("smoke", main, ["https://happy-otter-123.convex.site"], env)).toEqual({
      code: 2,
      out: [],
      err: ["smoke: npm took --url for itself, so the tool never saw it: add -- before the options, as in npm run smoke -- --url https://happy-otter-123.convex.site"],
    });
  });

  test.each([
    [["--url", "happy-otter-123.convex.site"], /^smoke: "happy-otter-123\.convex\.site" is not a URL/],
    [["https://happy-otter-123.convex.site"], /^smoke: unexpected argument "https:\/\/happy-otter-123\.convex\.site": the site URL goes after --url/],
    [["--prod"], /^smoke: Unknown option '--prod'.* See --help\.$/],
  ])("%j is refused in one line", async (args, message) => {
    expect(await runInProcess("smoke", main, args)).toEqual({ code: 2, out: [], err: [expect.stringMatching(message)] });
  });
});
