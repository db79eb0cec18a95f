// @vitest-environment node
import type { Server } from "node:http";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import type { Probe } from "../../scripts/lib/backendCheck";
import { deploy, preflight, webhookLines, type DeployPlan } from "../../scripts/lib/deploy";
import { loadEnv, type Env } from "../../scripts/lib/env";
import { snapshot } from "../../scripts/lib/generated";
import type { Runner } from "../../scripts/lib/run";
import { main } from "../../scripts/deploy";
import { newBackend } from "../helpers/backend";
import { rewriteAsADeploymentWould, temporaryProjects } from "../helpers/scripts";
import { EVENTS_SECRET } from "../helpers/senders/events";
import { GITHUB_SECRET } from "../helpers/senders/github";
import { closeServer, serveOnLoopback } from "../helpers/loopback";
import { SLACK_SECRET } from "../helpers/senders/slack";

const SECRET_KEY = "prod:happy-otter-123|eyJ2MiI6ImRlYWRiZWVmIn0=";
const ADMIN_KEY = "convex-self-hosted|01f2e3d4c5b6a7";
const project = temporaryProjects();

/** A self-hosted backend's answer to GET /instance_version. */
const backendAt = (version: string) => vi.fn(async (): Promise<Probe> => ({ kind: "answered", status: 200, text: version }));
const recentBackend = backendAt("precompiled-2026-05-02-1f0e9d8");

/** The variables as the environment has them, with no .env.local or .env. */
const inEnvironment = (env: Env) => loadEnv(env, "/nonexistent");

describe("npm run deploy: preflight", () => {
  test.each([
    [{}, /No deployment to deploy to: set CONVEX_DEPLOY_KEY .* or CONVEX_SELF_HOSTED_URL with CONVEX_SELF_HOSTED_ADMIN_KEY .* or CONVEX_DEPLOYMENT/],
    [{ CONVEX_DEPLOY_KEY: "  " }, /No deployment to deploy to/],
    [{ CONVEX_SELF_HOSTED_URL: "https://convex.example.com" }, /CONVEX_SELF_HOSTED_URL is set, but not its admin key: set CONVEX_SELF_HOSTED_ADMIN_KEY/],
    [{ CONVEX_ADMIN_KEY: ADMIN_KEY }, /CONVEX_ADMIN_KEY is set, but not CONVEX_SELF_HOSTED_URL/],
    [{ CONVEX_SELF_HOSTED_ADMIN_KEY: ADMIN_KEY }, /CONVEX_SELF_HOSTED_ADMIN_KEY is set, but not CONVEX_SELF_HOSTED_URL/],
    [{ CONVEX_SELF_HOSTED_URL: "convex example", CONVEX_ADMIN_KEY: ADMIN_KEY }, /CONVEX_SELF_HOSTED_URL is not a URL/],
    [{ CONVEX_DEPLOY_KEY: SECRET_KEY, CONVEX_SELF_HOSTED_URL: "https://convex.example.com" }, /Both CONVEX_DEPLOY_KEY and CONVEX_SELF_HOSTED_URL/],
    [{ CONVEX_DEPLOYMENT: "dev:happy-otter-123", CONVEX_SELF_HOSTED_URL: "https://convex.example.com", CONVEX_ADMIN_KEY: ADMIN_KEY }, /CONVEX_DEPLOYMENT must not be set with CONVEX_SELF_HOSTED_URL/],
    [{ CONVEX_DEPLOYMENT: "anonymous:anonymous-jangar-persistence" }, /CONVEX_DEPLOYMENT names the local anonymous deployment of npm run dev, which has no production deployment.* Set CONVEX_DEPLOY_KEY/],
  ])("%j fails fast, naming what is missing", (env, problem) => {
    const checked = preflight(inEnvironment(env), []);
    expect(checked).toEqual({ ok: false, message: expect.stringMatching(problem) });
    // The message never repeats a secret.
    expect(JSON.stringify(checked)).not.toContain("eyJ2");
    expect(JSON.stringify(checked)).not.toContain("01f2e3");
  });

  test.each([
    [["--then"], /--then needs a command/],
    [["--then", "  "], /--then needs a command/],
    [["--prod"], /Unknown argument "--prod": the options are --then "<command>", --url <site URL>, --skip-smoke <sender,...> and --no-smoke/],
    [["--skip-smoke", "gitlab"], /--skip-smoke takes sender names \(github, slack, events\), not "gitlab"/],
    [["--url", "happy-otter-123.convex.site"], /"happy-otter-123\.convex\.site" is not a URL/],
  ])("arguments %j are refused", (argv, problem) => {
    expect(preflight(inEnvironment({ CONVEX_DEPLOY_KEY: SECRET_KEY }), argv)).toEqual({ ok: false, message: expect.stringMatching(problem) });
  });

  test("a cloud deploy key names the site URL of its deployment; CONVEX_DEPLOYMENT_TOKEN is the same setting", () => {
    const checked = preflight(inEnvironment({ CONVEX_DEPLOY_KEY: SECRET_KEY }), ["--then", "kubectl apply -f jangar.yaml"]);
    expect(checked).toMatchObject({ ok: true, value: { kind: "cloud", siteUrl: "https://happy-otter-123.convex.site", smoke: true, then: "kubectl apply -f jangar.yaml" } });
    expect(preflight(inEnvironment({ CONVEX_DEPLOYMENT_TOKEN: SECRET_KEY }), [])).toMatchObject({ ok: true, value: { siteUrl: "https://happy-otter-123.convex.site" } });
  });

  test("a self-hosted deployment takes CONVEX_ADMIN_KEY as its admin key and CONVEX_SITE_ORIGIN as its site", () => {
    const checked = preflight(
      inEnvironment({ CONVEX_SELF_HOSTED_URL: "https://convex.example.com", CONVEX_ADMIN_KEY: ADMIN_KEY, CONVEX_SITE_ORIGIN: "https://hooks.example.com/" }),
      [],
    );
    expect(checked).toMatchObject({
      ok: true,
      value: { kind: "self-hosted", siteUrl: "https://hooks.example.com", env: { CONVEX_SELF_HOSTED_ADMIN_KEY: ADMIN_KEY } },
    });
    const local = preflight(inEnvironment({ CONVEX_SELF_HOSTED_URL: "http://127.0.0.1:3210", CONVEX_SELF_HOSTED_ADMIN_KEY: ADMIN_KEY }), []);
    expect(local).toMatchObject({ ok: true, value: { siteUrl: "http://127.0.0.1:3211" } });
  });

  test("CONVEX_DEPLOYMENT from .env.local is taken as `convex deploy` takes it: that project's production deployment", () => {
    const { dir } = project("CONVEX_DEPLOYMENT=dev:happy-otter-123 # team: acme, project: jangar\nCONVEX_URL=https://happy-otter-123.convex.cloud\n");
    const checked = preflight(loadEnv({}, dir), ["--url", "https://brave-lynx-456.convex.site/"]);
    expect(checked).toMatchObject({
      ok: true,
      value: {
        kind: "cloud",
        target: expect.stringMatching(/^the production deployment of the project of CONVEX_DEPLOYMENT \(in \.env\.local\)/),
        siteUrl: "https://brave-lynx-456.convex.site",
        env: { CONVEX_DEPLOYMENT: "dev:happy-otter-123" },
      },
    });
  });

  test("the production site URL is not known from a dev CONVEX_DEPLOYMENT: --url, or --no-smoke, before anything is deployed", () => {
    const { dir } = project("CONVEX_DEPLOYMENT=dev:happy-otter-123\n");
    expect(preflight(loadEnv({}, dir), [])).toEqual({ ok: false, message: expect.stringMatching(/pass --url https:\/\/<deployment>\.convex\.site .* or --no-smoke/) });
    expect(preflight(loadEnv({}, dir), ["--no-smoke"])).toMatchObject({ ok: true, value: { smoke: false, siteUrl: null } });
  });

  test("the environment wins over .env.local, and a deploy key over CONVEX_DEPLOYMENT, as in the Convex CLI", () => {
    const { dir } = project("CONVEX_DEPLOYMENT=dev:happy-otter-123\nCONVEX_SELF_HOSTED_ADMIN_KEY=from-the-file\nGITHUB_WEBHOOK_SECRET=from-the-file\n");
    const checked = preflight(loadEnv({ CONVEX_DEPLOY_KEY: SECRET_KEY, GITHUB_WEBHOOK_SECRET: "from-the-environment" }, dir), []);
    expect(checked).toMatchObject({
      ok: true,
      value: { kind: "cloud", siteUrl: "https://happy-otter-123.convex.site", secrets: { github: "from-the-environment" } },
    });
  });
});

/** The order things happen in: each Convex CLI run, the smoke check, each log line. */
function recorder(deployExit = 0, smokePasses = true) {
  const events: string[] = [];
  const run = vi.fn<Runner>(async (command, args) => {
    events.push(`run ${[command, ...args].join(" ")}`);
    return command === "npx" ? deployExit : 0;
  });
  const smoke = vi.fn(async (url: string) => {
    events.push(`smoke ${url}`);
    return smokePasses;
  });
  const log = (line: string) => events.push(line);
  return { events, run, smoke, log };
}

describe("npm run deploy: the run", () => {
  const plan: DeployPlan = {
    kind: "cloud",
    target: "the cloud deployment of CONVEX_DEPLOY_KEY (https://happy-otter-123.convex.site)",
    env: { CONVEX_DEPLOY_KEY: SECRET_KEY },
    siteUrl: "https://happy-otter-123.convex.site",
    backendUrl: null,
    smoke: true,
    skip: [],
    secrets: { github: GITHUB_SECRET },
    then: "kubectl apply -f jangar.yaml",
  };

  test("deploys, smoke-checks, then runs --then, then prints the three webhook URLs and no secret", async () => {
    const { events, run, smoke, log } = recorder();
    expect(await deploy(plan, { run, smoke, log })).toBe(0);
    expect(events.filter((event) => /^(run|smoke) /.test(event))).toEqual([
      "run npx convex deploy --yes --codegen disable",
      "smoke https://happy-otter-123.convex.site",
      "run kubectl apply -f jangar.yaml",
    ]);
    expect(run.mock.calls.map(([, , options]) => options.shell)).toEqual([false, true]);
    expect(smoke).toHaveBeenCalledWith("https://happy-otter-123.convex.site", { github: GITHUB_SECRET }, []);
    expect(events.slice(-4)).toEqual([
      "Webhook URLs:",
      "  https://happy-otter-123.convex.site/webhooks/github",
      "  https://happy-otter-123.convex.site/webhooks/slack",
      "  https://happy-otter-123.convex.site/webhooks/events",
    ]);
    expect(events.join("\n")).not.toContain("eyJ2");
    expect(events.join("\n")).not.toContain(GITHUB_SECRET);
  });

  test("a failed smoke check stops before --then, with what to do", async () => {
    const { events, run, smoke, log } = recorder(0, false);
    expect(await deploy(plan, { run, smoke, log })).toBe(1);
    expect(run).toHaveBeenCalledTimes(1);
    expect(events.at(-1)).toMatch(/The smoke check failed, so --then was not run: .* npm run smoke -- --url https:\/\/happy-otter-123\.convex\.site/);
  });

  test("with --no-smoke there is no check", async () => {
    const { events, run, smoke, log } = recorder();
    expect(await deploy({ ...plan, smoke: false }, { run, smoke, log })).toBe(0);
    expect(smoke).not.toHaveBeenCalled();
    expect(events).toContain("run kubectl apply -f jangar.yaml");
  });

  test("a failed deploy runs neither the check nor --then, exits with its code, and leaves convex/_generated as it was", async () => {
    const { generated } = project();
    const before = snapshot(generated);
    const { events, smoke, log } = recorder();
    const run = vi.fn<Runner>(async () => {
      rewriteAsADeploymentWould(generated);
      return 3;
    });
    expect(await deploy(plan, { run, smoke, log, generatedDir: generated })).toBe(3);
    expect(run).toHaveBeenCalledTimes(1);
    expect(smoke).not.toHaveBeenCalled();
    expect(events.at(-2)).toMatch(/convex deploy failed \(exit 3\); --then was not run/);
    expect(events.at(-1)).toMatch(/See the Convex CLI's lines above; docs\/troubleshooting\.md/);
    expect(snapshot(generated)).toEqual(before);
  });

  test("a deploy that succeeds leaves convex/_generated as it was too", async () => {
    const { generated } = project();
    const before = snapshot(generated);
    const { smoke, log } = recorder();
    const run = vi.fn<Runner>(async () => {
      rewriteAsADeploymentWould(generated);
      return 0;
    });
    expect(await deploy({ ...plan, then: null }, { run, smoke, log, generatedDir: generated })).toBe(0);
    expect(snapshot(generated)).toEqual(before);
  });

  test("without a known site URL the paths are printed with how to find the site", () => {
    expect(webhookLines(null).join("\n")).toMatch(/convex\.site.*\n {2}\/webhooks\/github/);
  });
});

describe("npm run deploy against a deployment over HTTP (the Convex CLI stubbed)", () => {
  let server: Server | undefined;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    vi.stubEnv("EVENTS_WEBHOOK_SECRET", EVENTS_SECRET);
  });
  afterEach(async () => {
    vi.useRealTimers();
    vi.unstubAllEnvs();
    if (server !== undefined) await closeServer(server);
  });

  test("a deployment without SLACK_SIGNING_SECRET never gets its --then: the smoke check says which secret is not set", async () => {
    const running = await serveOnLoopback(newBackend());
    server = running.server;
    const out: string[] = [];
    const run = vi.fn<Runner>().mockResolvedValue(0);
    const loaded = inEnvironment({
      CONVEX_SELF_HOSTED_URL: "https://convex.example.com",
      CONVEX_SELF_HOSTED_ADMIN_KEY: ADMIN_KEY,
      CONVEX_SITE_ORIGIN: running.url,
      GITHUB_WEBHOOK_SECRET: GITHUB_SECRET,
      SLACK_SIGNING_SECRET: SLACK_SECRET,
      EVENTS_WEBHOOK_SECRET: EVENTS_SECRET,
    });
    const code = await main(["--then", "kubectl apply -f jangar.yaml"], loaded, { out: (line) => out.push(line), err: (line) => out.push(line) }, run, recentBackend);

    expect(code).toBe(1);
    expect(run.mock.calls.map(([command]) => command)).toEqual(["npx"]);
    expect(out).toContainEqual(expect.stringMatching(/^ {2}ok\s+healthz/));
    expect(out).toContainEqual(expect.stringMatching(/^ {2}ok\s+github/));
    expect(out).toContainEqual(expect.stringMatching(/^ {2}FAIL\s+slack\s+503\s+secret not set on the deployment: npx convex env set SLACK_SIGNING_SECRET/));
    expect(out).toContainEqual(expect.stringMatching(/^ {2}ok\s+events/));
    expect(out.at(-1)).toMatch(/The smoke check failed, so --then was not run/);
  });
});

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
