// @vitest-environment node
import type { Server } from "node:http";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import type { Probe } from "../../scripts/lib/backendCheck";
import { preflight, webhookLines } from "../../scripts/lib/deploy";
import type { Env } from "../../scripts/lib/env";
import type { Runner } from "../../scripts/lib/run";
import { main } from "../../scripts/deploy";
import { newBackend } from "../helpers/backend";
import { ADMIN_KEY, backendAt, inEnvironment, recentBackend, SECRET_KEY } from "../helpers/deploy";
import { EVENTS_SECRET } from "../helpers/senders/events";
import { GITHUB_SECRET } from "../helpers/senders/github";
import { closeServer, serveOnLoopback } from "../helpers/loopback";
import { SLACK_SECRET } from "../helpers/senders/slack";

describe("npm run deploy: the strict gate", () => {
  let server: Server | undefined;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    vi.stubEnv("SLACK_SIGNING_SECRET", SLACK_SECRET);
    vi.stubEnv("EVENTS_WEBHOOK_SECRET", EVENTS_SECRET);
  });
  afterEach(async () => {
    vi.useRealTimers();
    vi.unstubAllEnvs();
    if (server !== undefined) await closeServer(server);
  });

  const selfHosted = (siteUrl: string, secrets: Env) =>
    inEnvironment({ CONVEX_SELF_HOSTED_URL: "http://127.0.0.1:3210", CONVEX_SELF_HOSTED_ADMIN_KEY: ADMIN_KEY, CONVEX_SITE_ORIGIN: siteUrl, ...secrets });

  async function deployTo(args: string[], secrets: Env) {
    const running = await serveOnLoopback(newBackend());
    server = running.server;
    const out: string[] = [];
    const run = vi.fn<Runner>().mockResolvedValue(0);
    const code = await main(args, selfHosted(running.url, secrets), { out: (line) => out.push(line), err: (line) => out.push(line) }, run, recentBackend);
    return { code, out, commands: run.mock.calls.map(([command]) => command) };
  }

  test("a route that could not be checked (no secret given) fails the deploy before --then", async () => {
    const { code, out, commands } = await deployTo(["--then", "kubectl apply -f jangar.yaml"], { GITHUB_WEBHOOK_SECRET: GITHUB_SECRET });
    expect(code).toBe(1);
    expect(commands).toEqual(["npx"]);
    expect(out).toContainEqual(expect.stringMatching(/^ {2}NOT\s+slack\s+not checked: no secret given/));
    expect(out.at(-1)).toMatch(/The smoke check failed, so --then was not run/);
  });

  test("routes named with --skip-smoke are not checked, and the deploy goes on to --then", async () => {
    const { code, out, commands } = await deployTo(["--skip-smoke", "slack,events", "--then", "kubectl apply -f jangar.yaml"], { GITHUB_WEBHOOK_SECRET: GITHUB_SECRET });
    expect(code).toBe(0);
    expect(commands).toEqual(["npx", "kubectl apply -f jangar.yaml"]);
    expect(out).toContainEqual(expect.stringMatching(/skipping slack, events as asked/));
    expect(out).toContainEqual(expect.stringMatching(/^ {2}skip\s+slack\s+skipped, as asked/));
  });

  test("a self-hosted backend older than 2026-04-08 is refused before anything is deployed, with the version it runs", async () => {
    const run = vi.fn<Runner>().mockResolvedValue(0);
    const out: string[] = [];
    const old = backendAt("precompiled-2026-03-30-ab12cd3");
    const code = await main(["--no-smoke"], selfHosted("http://127.0.0.1:3211", {}), { out: (line) => out.push(line), err: (line) => out.push(line) }, run, old);
    expect(code).toBe(1);
    expect(run).not.toHaveBeenCalled();
    expect(old).toHaveBeenCalledWith("http://127.0.0.1:3210");
    expect(out[0]).toMatch(/runs precompiled-2026-03-30-ab12cd3, released 2026-03-30; this code needs a backend from 2026-04-08 or later \(ctx\.meta\.getTransactionMetrics/);
  });

  test("a recent self-hosted backend is deployed to; one that does not answer is refused at once, in self-hosted words", async () => {
    const run = vi.fn<Runner>().mockResolvedValue(0);
    const out: string[] = [];
    const io = { out: (line: string) => out.push(line), err: (line: string) => out.push(line) };
    expect(await main(["--no-smoke"], selfHosted("http://127.0.0.1:3211", {}), io, run, recentBackend)).toBe(0);
    expect(run).toHaveBeenCalledTimes(1);
    const down = vi.fn(async (): Promise<Probe> => ({ kind: "unreachable", why: "ECONNREFUSED" }));
    expect(await main(["--no-smoke"], selfHosted("http://127.0.0.1:3211", {}), io, run, down)).toBe(1);
    expect(run).toHaveBeenCalledTimes(1);
    expect(out.join("\n")).toMatch(/Nothing answers at the self-hosted backend at http:\/\/127\.0\.0\.1:3210 \(CONVEX_SELF_HOSTED_URL\) \(ECONNREFUSED\): nothing was deployed\.\n {2}Is the backend running \(docker compose ps\)/);
  });

  test.each([
    ["✖ Error: BadAdminKey: The provided admin key was invalid for this instance", /refused the admin key: CONVEX_SELF_HOSTED_ADMIN_KEY .*generate_admin_key\.sh/],
    ["Error fetching POST http://127.0.0.1:3210/api/deploy2/start_push: fetch failed\nRetrying...", /could not be reached: check CONVEX_SELF_HOSTED_URL/],
    ["Error: 404 Not Found: /api/deploy2/start_push", /probably too old\. Upgrade it .* 2026-04-08 or later/],
  ])("a failed convex deploy printing %j ends with what to do", async (printed, advice) => {
    const run = vi.fn<Runner>(async (_command, _args, options) => {
      options.onOutput?.(printed);
      return 1;
    });
    const out: string[] = [];
    const code = await main(["--no-smoke"], selfHosted("http://127.0.0.1:3211", {}), { out: (line) => out.push(line), err: (line) => out.push(line) }, run, recentBackend);
    expect(code).toBe(1);
    expect(out.at(-2)).toMatch(/convex deploy failed \(exit 1\)/);
    expect(out.at(-1)).toMatch(advice);
  });

  test("self-hosted targets get self-hosted words: the site URL to set, and the webhook URLs", () => {
    const checked = preflight(inEnvironment({ CONVEX_SELF_HOSTED_URL: "https://api.example.com", CONVEX_SELF_HOSTED_ADMIN_KEY: ADMIN_KEY }), []);
    expect(checked).toEqual({ ok: false, message: expect.stringMatching(/self-hosted backend's site URL .* set CONVEX_SITE_ORIGIN or pass --url/) });
    expect(JSON.stringify(checked)).not.toContain("convex.site");
    expect(webhookLines(null, "self-hosted")[0]).toMatch(/CONVEX_SITE_ORIGIN, port 3211/);
  });

  test("--then given without -- (npm keeps it) is named, with the command to type", () => {
    const checked = preflight(inEnvironment({ CONVEX_DEPLOY_KEY: SECRET_KEY, npm_lifecycle_event: "deploy", npm_config_then: "true" }), ["kubectl apply -f jangar.yaml"]);
    expect(checked).toEqual({ ok: false, message: "npm took --then for itself, so the tool never saw it: add -- before the options, as in npm run deploy -- --then kubectl apply -f jangar.yaml" });
  });
});
