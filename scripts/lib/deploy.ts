import { accept, reject, type Check } from "../../src/check";
import { webhookSources } from "../../src/sources";
import { checkedSiteUrl, secretsFrom } from "./cli";
import { named, valueOf, type LoadedEnv } from "./env";
import { GENERATED_DIR, restore, snapshot } from "./generated";
import type { Runner } from "./run";
import type { Secrets } from "./send";

/**
 * `npm run deploy`: the preflight, the deploy, the smoke check and the
 * follow-up, as plain functions so that they can be tested without running
 * the Convex CLI. The deployment is chosen as `convex deploy` chooses it
 * (variables from the environment, then .env.local, then .env).
 */

export type DeployPlan = {
  kind: "cloud" | "self-hosted";
  /** Which deployment, in words. */
  target: string;
  /** The environment the Convex CLI runs with. */
  env: Record<string, string>;
  /** Where HTTP actions are served, when it can be known before deploying. */
  siteUrl: string | null;
  /** Smoke-check the deployment before --then (`--no-smoke` turns it off). */
  smoke: boolean;
  /** The senders' secrets the smoke check signs with, where given. */
  secrets: Secrets;
  then: string | null;
};

type Options = { then: string | null; smoke: boolean; url: string | null };

const USAGE = 'the options are --then "<command>", --url <site URL> and --no-smoke';

function parseDeployArgs(argv: string[]): Check<Options> {
  const options: Options = { then: null, smoke: true, url: null };
  for (let i = 0; i < argv.length; i += 1) {
    const value = argv[i + 1];
    switch (argv[i]) {
      case "--then":
        if (value === undefined || value.trim() === "") {
          return reject('--then needs a command, e.g. --then "kubectl apply -f jangar.yaml".');
        }
        options.then = value;
        i += 1;
        break;
      case "--url":
        if (value === undefined) {
          return reject("--url needs the deployment's site URL, e.g. --url https://happy-otter-123.convex.site.");
        }
        try {
          options.url = checkedSiteUrl(value);
        } catch (error) {
          return reject((error as Error).message);
        }
        i += 1;
        break;
      case "--no-smoke":
        options.smoke = false;
        break;
      default:
        return reject(`Unknown argument ${JSON.stringify(argv[i])}: ${USAGE}.`);
    }
  }
  return accept(options);
}

/** The site URL of a cloud deployment named in a deploy key (`prod:happy-otter-123|...`) or in CONVEX_DEPLOYMENT (`prod:happy-otter-123`). */
function cloudSiteUrl(name: string): string | null {
  const match = /^prod:([a-z]+-[a-z]+-\d+)(\||$)/.exec(name);
  return match ? `https://${match[1]}.convex.site` : null;
}

/** The site URL of a self-hosted deployment: CONVEX_SITE_ORIGIN, or the backend's default port beside 3210. */
function selfHostedSiteUrl(loaded: LoadedEnv, url: URL): string | null {
  const origin = valueOf(loaded.values, "CONVEX_SITE_ORIGIN");
  if (origin !== undefined) {
    return origin.replace(/\/+$/, "");
  }
  if (url.port === "3210") {
    return `${url.protocol}//${url.hostname}:3211`;
  }
  return null;
}

const NO_TARGET =
  "No deployment to deploy to: set CONVEX_DEPLOY_KEY (a cloud deployment's deploy key), or CONVEX_SELF_HOSTED_URL with CONVEX_SELF_HOSTED_ADMIN_KEY (or CONVEX_ADMIN_KEY) for a self-hosted one, or CONVEX_DEPLOYMENT (npx convex login, then npm run dev once) to deploy to that project's production deployment.";

/** Which deployment `convex deploy` would deploy to, as a plan without the options; or what is missing. */
function target(loaded: LoadedEnv): Check<Omit<DeployPlan, "smoke" | "secrets" | "then">> {
  const env = loaded.values;
  const deployKeyName = ["CONVEX_DEPLOY_KEY", "CONVEX_DEPLOYMENT_TOKEN"].find((name) => valueOf(env, name) !== undefined);
  const selfHostedUrl = valueOf(env, "CONVEX_SELF_HOSTED_URL");
  const adminKeyName = ["CONVEX_SELF_HOSTED_ADMIN_KEY", "CONVEX_ADMIN_KEY"].find((name) => valueOf(env, name) !== undefined);
  const deployment = valueOf(env, "CONVEX_DEPLOYMENT");
  const inherited = Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));

  if (deployKeyName !== undefined && selfHostedUrl !== undefined) {
    return reject(`Both ${named(loaded, deployKeyName)} and ${named(loaded, "CONVEX_SELF_HOSTED_URL")} are set: unset one, so that it is clear which deployment to deploy to.`);
  }
  if (deployKeyName !== undefined) {
    // As in the Convex CLI, a deploy key wins over CONVEX_DEPLOYMENT (which npm run dev leaves in .env.local).
    const siteUrl = cloudSiteUrl(valueOf(env, deployKeyName)!);
    return accept({ kind: "cloud", target: `the cloud deployment of ${deployKeyName}${siteUrl ? ` (${siteUrl})` : ""}`, env: inherited, siteUrl });
  }
  if (selfHostedUrl !== undefined) {
    if (deployment !== undefined) {
      return reject(`${named(loaded, "CONVEX_DEPLOYMENT")} must not be set with ${named(loaded, "CONVEX_SELF_HOSTED_URL")} (the Convex CLI refuses both): remove the one you do not mean.`);
    }
    let url: URL;
    try {
      url = new URL(selfHostedUrl);
    } catch {
      return reject(`${named(loaded, "CONVEX_SELF_HOSTED_URL")} is not a URL (e.g. https://convex.example.com).`);
    }
    if (adminKeyName === undefined) {
      return reject(`${named(loaded, "CONVEX_SELF_HOSTED_URL")} is set, but not its admin key: set CONVEX_SELF_HOSTED_ADMIN_KEY (or CONVEX_ADMIN_KEY).`);
    }
    return accept({
      kind: "self-hosted",
      target: `the self-hosted deployment at ${url.origin}`,
      env: { ...inherited, CONVEX_SELF_HOSTED_ADMIN_KEY: valueOf(env, adminKeyName)! },
      siteUrl: selfHostedSiteUrl(loaded, url),
    });
  }
  if (adminKeyName !== undefined) {
    return reject(`${named(loaded, adminKeyName)} is set, but not CONVEX_SELF_HOSTED_URL: set the self-hosted deployment's URL.`);
  }
  if (deployment !== undefined) {
    if (deployment.split(":").at(-1)!.startsWith("anonymous-")) {
      return reject(`${named(loaded, "CONVEX_DEPLOYMENT")} names the local anonymous deployment of npm run dev, which has no production deployment to deploy to. ${NO_TARGET.replace("No deployment to deploy to: set", "Set")}`);
    }
    return accept({
      kind: "cloud",
      target: `the production deployment of the project of ${named(loaded, "CONVEX_DEPLOYMENT")} (the Convex CLI asks you to log in first if needed: npx convex login)`,
      env: inherited,
      siteUrl: cloudSiteUrl(deployment),
    });
  }
  return reject(NO_TARGET);
}

/** Checks that a deployment target is set, and plans the deploy; names what is missing when it is not. */
export function preflight(loaded: LoadedEnv, argv: string[]): Check<DeployPlan> {
  const options = parseDeployArgs(argv);
  if (!options.ok) {
    return options;
  }
  const chosen = target(loaded);
  if (!chosen.ok) {
    return chosen;
  }
  const { then, smoke, url } = options.value;
  const siteUrl = url ?? chosen.value.siteUrl;
  if (smoke && siteUrl === null) {
    return reject(
      "The deployment's site URL cannot be known before deploying, and the smoke check needs it: pass --url https://<deployment>.convex.site (the dashboard's HTTP Actions URL), or --no-smoke to skip the check.",
    );
  }
  return accept({ ...chosen.value, siteUrl, smoke, secrets: secretsFrom({}, loaded.values), then });
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

export type DeployTools = {
  run: Runner;
  log: (line: string) => void;
  /** Smoke-checks the deployment at `siteUrl`; resolves true when every check passed. */
  smoke: (siteUrl: string, secrets: Secrets) => Promise<boolean>;
  generatedDir?: string;
};

/**
 * Deploys, smoke-checks the deployment, then runs the follow-up only when
 * both succeeded; returns the exit code. convex/_generated is left as it was,
 * whatever happens.
 */
export async function deploy(plan: DeployPlan, { run, log, smoke, generatedDir = GENERATED_DIR }: DeployTools): Promise<number> {
  log(`Deploying to ${plan.target}...`);
  const saved = snapshot(generatedDir);
  let deployed: number;
  try {
    // Without codegen: the deployed bundle is the one `npm test` tests, and convex/_generated stays as committed.
    deployed = await run("npx", ["convex", "deploy", "--yes", "--codegen", "disable"], { env: plan.env, shell: false });
  } finally {
    restore(saved, generatedDir);
  }
  if (deployed !== 0) {
    log(`convex deploy failed (exit ${deployed})${plan.then ? "; --then was not run" : ""}.`);
    return deployed;
  }
  if (plan.smoke && plan.siteUrl !== null) {
    log(`Smoke check of ${plan.siteUrl} (npm run smoke):`);
    if (!(await smoke(plan.siteUrl, plan.secrets))) {
      log(
        `The smoke check failed${plan.then ? ", so --then was not run" : ""}: fix what it names (npx convex env set ...), check again with npm run smoke -- --url ${plan.siteUrl}${plan.then ? ", then run the --then command" : ""}.`,
      );
      return 1;
    }
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
