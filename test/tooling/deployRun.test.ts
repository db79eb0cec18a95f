// @vitest-environment node
import { describe, expect, test, vi } from "vitest";
import { deploy, webhookLines, type DeployPlan } from "../../scripts/lib/deploy";
import { snapshot } from "../../scripts/lib/generated";
import type { Runner } from "../../scripts/lib/run";
import { SECRET_KEY } from "../helpers/deploy";
import { rewriteAsADeploymentWould, temporaryProjects } from "../helpers/scripts";
import { GITHUB_SECRET } from "../helpers/senders/github";

const project = temporaryProjects();

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
