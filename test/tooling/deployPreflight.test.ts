// @vitest-environment node
import { describe, expect, test } from "vitest";
import { preflight } from "../../scripts/lib/deploy";
import { loadEnv } from "../../scripts/lib/env";
import { ADMIN_KEY, inEnvironment, SECRET_KEY } from "../helpers/deploy";
import { temporaryProjects } from "../helpers/scripts";

const project = temporaryProjects();

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

