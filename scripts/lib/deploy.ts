import { webhookSources } from "../../src/sources";

/**
 * `npm run deploy`: the preflight, the deploy and its follow-up, as plain
 * functions so that the preflight can be tested without running anything.
 */

export type Env = Readonly<Record<string, string | undefined>>;

export type DeployPlan = {
  kind: "cloud" | "self-hosted";
  /** The environment the Convex CLI runs with. */
  env: Record<string, string>;
  /** Where HTTP actions are served, when it can be known before deploying. */
  siteUrl: string | null;
  then: string | null;
};

export type Preflight = { ok: true; plan: DeployPlan } | { ok: false; problem: string };

const set = (env: Env, name: string) => (env[name] ?? "").trim() !== "";

/** The site URL of a cloud deployment named in a deploy key (`prod:happy-otter-123|...`). */
function cloudSiteUrl(deployKey: string): string | null {
  const match = /^(?:prod|dev):([a-z]+-[a-z]+-\d+)\|/.exec(deployKey);
  return match ? `https://${match[1]}.convex.site` : null;
}

/** The site URL of a self-hosted deployment: CONVEX_SITE_ORIGIN, or the backend's default port beside 3210. */
function selfHostedSiteUrl(env: Env, url: URL): string | null {
  if (set(env, "CONVEX_SITE_ORIGIN")) {
    return env.CONVEX_SITE_ORIGIN!.trim().replace(/\/+$/, "");
  }
  if (url.port === "3210") {
    return `${url.protocol}//${url.hostname}:3211`;
  }
  return null;
}

/** Checks that a deployment target is set, and plans the deploy; names what is missing when it is not. */
export function preflight(env: Env, argv: string[]): Preflight {
  let then: string | null = null;
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === "--then") {
      then = argv[i + 1] ?? "";
      i += 1;
      if (then.trim() === "") {
        return { ok: false, problem: "--then needs a command, e.g. --then \"kubectl apply -f jangar.yaml\"." };
      }
    } else {
      return { ok: false, problem: `Unknown argument ${JSON.stringify(argv[i])}: the only option is --then "<command>".` };
    }
  }
  const deployKey = set(env, "CONVEX_DEPLOY_KEY");
  const selfHostedUrl = set(env, "CONVEX_SELF_HOSTED_URL");
  const adminKeyName = ["CONVEX_SELF_HOSTED_ADMIN_KEY", "CONVEX_ADMIN_KEY"].find((name) => set(env, name));
  const inherited = Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );

  if (deployKey && selfHostedUrl) {
    return {
      ok: false,
      problem: "Both CONVEX_DEPLOY_KEY and CONVEX_SELF_HOSTED_URL are set: unset one, so that it is clear which deployment to deploy to.",
    };
  }
  if (deployKey) {
    return {
      ok: true,
      plan: { kind: "cloud", env: inherited, siteUrl: cloudSiteUrl(env.CONVEX_DEPLOY_KEY!.trim()), then },
    };
  }
  if (selfHostedUrl) {
    let url: URL;
    try {
      url = new URL(env.CONVEX_SELF_HOSTED_URL!.trim());
    } catch {
      return { ok: false, problem: "CONVEX_SELF_HOSTED_URL is not a URL (e.g. https://convex.example.com)." };
    }
    if (adminKeyName === undefined) {
      return {
        ok: false,
        problem: "CONVEX_SELF_HOSTED_URL is set, but not its admin key: set CONVEX_SELF_HOSTED_ADMIN_KEY (or CONVEX_ADMIN_KEY).",
      };
    }
    return {
      ok: true,
      plan: {
        kind: "self-hosted",
        env: { ...inherited, CONVEX_SELF_HOSTED_ADMIN_KEY: env[adminKeyName]!.trim() },
        siteUrl: selfHostedSiteUrl(env, url),
        then,
      },
    };
  }
  if (adminKeyName !== undefined) {
    return { ok: false, problem: `${adminKeyName} is set, but not CONVEX_SELF_HOSTED_URL: set the self-hosted deployment's URL.` };
  }
  return {
    ok: false,
    problem:
      "No deployment to deploy to: set CONVEX_DEPLOY_KEY (a cloud deployment's deploy key), or CONVEX_SELF_HOSTED_URL with CONVEX_SELF_HOSTED_ADMIN_KEY (or CONVEX_ADMIN_KEY) for a self-hosted one.",
  };
}

export const WEBHOOK_PATHS = Object.values(webhookSources).map((source) => source.path);

/** The lines that tell an operator which URLs to give GitHub, Slack and the events senders. */
export function webhookLines(siteUrl: string | null): string[] {
  if (siteUrl === null) {
    return [
      "Webhook URLs: the deployment's site URL (https://<deployment>.convex.site, or CONVEX_SITE_ORIGIN) followed by",
      ...WEBHOOK_PATHS.map((path) => `  ${path}`),
    ];
  }
  return ["Webhook URLs:", ...WEBHOOK_PATHS.map((path) => `  ${siteUrl}${path}`)];
}

export type Runner = (command: string, args: string[], options: { env: Record<string, string>; shell: boolean }) => Promise<number>;

/** Runs the deploy and, only when it succeeded, the follow-up; returns the exit code. */
export async function deploy(plan: DeployPlan, run: Runner, log: (line: string) => void): Promise<number> {
  log(`Deploying to the ${plan.kind} deployment${plan.siteUrl ? ` (${plan.siteUrl})` : ""}...`);
  const deployed = await run("npx", ["convex", "deploy", "--yes"], { env: plan.env, shell: false });
  if (deployed !== 0) {
    log(`convex deploy failed (exit ${deployed})${plan.then ? "; --then was not run" : ""}.`);
    return deployed;
  }
  if (plan.then !== null) {
    log(`Running: ${plan.then}`);
    const followed = await run(plan.then, [], { env: plan.env, shell: true });
    if (followed !== 0) {
      log(`The --then command failed (exit ${followed}).`);
      return followed;
    }
  }
  for (const line of webhookLines(plan.siteUrl)) {
    log(line);
  }
  return 0;
}
