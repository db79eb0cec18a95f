import { describe, expect, test, vi } from "vitest";
import { deploy, preflight, webhookLines, type Runner } from "../scripts/lib/deploy";

const SECRET_KEY = "prod:happy-otter-123|eyJ2MiI6ImRlYWRiZWVmIn0=";
const ADMIN_KEY = "convex-self-hosted|01f2e3d4c5b6a7";

describe("npm run deploy: preflight", () => {
  test.each([
    [{}, /No deployment to deploy to: set CONVEX_DEPLOY_KEY .* or CONVEX_SELF_HOSTED_URL with CONVEX_SELF_HOSTED_ADMIN_KEY/],
    [{ CONVEX_DEPLOY_KEY: "  " }, /No deployment to deploy to/],
    [{ CONVEX_SELF_HOSTED_URL: "https://convex.example.com" }, /CONVEX_SELF_HOSTED_URL is set, but not its admin key: set CONVEX_SELF_HOSTED_ADMIN_KEY/],
    [{ CONVEX_ADMIN_KEY: ADMIN_KEY }, /CONVEX_ADMIN_KEY is set, but not CONVEX_SELF_HOSTED_URL/],
    [{ CONVEX_SELF_HOSTED_ADMIN_KEY: ADMIN_KEY }, /CONVEX_SELF_HOSTED_ADMIN_KEY is set, but not CONVEX_SELF_HOSTED_URL/],
    [{ CONVEX_SELF_HOSTED_URL: "convex example", CONVEX_ADMIN_KEY: ADMIN_KEY }, /CONVEX_SELF_HOSTED_URL is not a URL/],
    [{ CONVEX_DEPLOY_KEY: SECRET_KEY, CONVEX_SELF_HOSTED_URL: "https://convex.example.com" }, /Both CONVEX_DEPLOY_KEY and CONVEX_SELF_HOSTED_URL/],
  ])("%j fails fast, naming what is missing", (env, problem) => {
    const checked = preflight(env, []);
    expect(checked).toEqual({ ok: false, problem: expect.stringMatching(problem) });
    // The message never repeats a secret.
    expect(JSON.stringify(checked)).not.toContain("eyJ2");
    expect(JSON.stringify(checked)).not.toContain("01f2e3");
  });

  test.each([
    [["--then"], /--then needs a command/],
    [["--then", "  "], /--then needs a command/],
    [["--prod"], /Unknown argument "--prod"/],
  ])("arguments %j are refused", (argv, problem) => {
    expect(preflight({ CONVEX_DEPLOY_KEY: SECRET_KEY }, argv)).toEqual({ ok: false, problem: expect.stringMatching(problem) });
  });

  test("a cloud deploy key names the site URL of its deployment", () => {
    const checked = preflight({ CONVEX_DEPLOY_KEY: SECRET_KEY }, ["--then", "kubectl apply -f jangar.yaml"]);
    expect(checked).toMatchObject({ ok: true, plan: { kind: "cloud", siteUrl: "https://happy-otter-123.convex.site", then: "kubectl apply -f jangar.yaml" } });
  });

  test("a self-hosted deployment takes CONVEX_ADMIN_KEY as its admin key and CONVEX_SITE_ORIGIN as its site", () => {
    const checked = preflight(
      { CONVEX_SELF_HOSTED_URL: "https://convex.example.com", CONVEX_ADMIN_KEY: ADMIN_KEY, CONVEX_SITE_ORIGIN: "https://hooks.example.com/" },
      [],
    );
    expect(checked).toMatchObject({
      ok: true,
      plan: { kind: "self-hosted", siteUrl: "https://hooks.example.com", env: { CONVEX_SELF_HOSTED_ADMIN_KEY: ADMIN_KEY } },
    });
    const local = preflight({ CONVEX_SELF_HOSTED_URL: "http://127.0.0.1:3210", CONVEX_SELF_HOSTED_ADMIN_KEY: ADMIN_KEY }, []);
    expect(local).toMatchObject({ ok: true, plan: { siteUrl: "http://127.0.0.1:3211" } });
  });
});

describe("npm run deploy: the run", () => {
  const plan = { kind: "cloud" as const, env: { CONVEX_DEPLOY_KEY: SECRET_KEY }, siteUrl: "https://happy-otter-123.convex.site", then: "kubectl apply -f jangar.yaml" };

  test("deploys, then runs --then, then prints the three webhook URLs and no secret", async () => {
    const run = vi.fn<Runner>().mockResolvedValue(0);
    const lines: string[] = [];
    expect(await deploy(plan, run, (line) => lines.push(line))).toBe(0);
    expect(run.mock.calls.map(([command, args, options]) => [command, args, options.shell])).toEqual([
      ["npx", ["convex", "deploy", "--yes"], false],
      ["kubectl apply -f jangar.yaml", [], true],
    ]);
    expect(lines.slice(-4)).toEqual([
      "Webhook URLs:",
      "  https://happy-otter-123.convex.site/webhooks/github",
      "  https://happy-otter-123.convex.site/webhooks/slack",
      "  https://happy-otter-123.convex.site/webhooks/events",
    ]);
    expect(lines.join("\n")).not.toContain("eyJ2");
  });

  test("a failed deploy does not run --then and exits with its code", async () => {
    const run = vi.fn<Runner>().mockResolvedValue(3);
    const lines: string[] = [];
    expect(await deploy(plan, run, (line) => lines.push(line))).toBe(3);
    expect(run).toHaveBeenCalledTimes(1);
    expect(lines.at(-1)).toMatch(/--then was not run/);
  });

  test("without a known site URL the paths are printed with how to find the site", () => {
    expect(webhookLines(null).join("\n")).toMatch(/convex\.site.*\n {2}\/webhooks\/github/);
  });
});
