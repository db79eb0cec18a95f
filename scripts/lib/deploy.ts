import { accept, reject, type Check } from "../../src/check";
import { webhookSources } from "../../src/sources";
import { checkedSiteUrl, secretsFrom, swallowedOption } from "./cli";
import { named, valueOf, type LoadedEnv } from "./env";
import { GENERATED_DIR, restore, snapshot } from "./generated";
import type { Runner } from "./run";
import type { Secrets } from "./send";
import { skippedSources } from "./smoke";
import type { SourceName } from "../../src/sources/source";
import { backendVersionVerdict, deployFailureAdvice, probeBackend, type BackendTarget, type Probe } from "./backendCheck";

/**
 * `npm run deploy`: the preflight, the deploy, the smoke check and the
 * follow-up, as plain functions so that they can be tested without running
 * the Convex CLI. The deployment is chosen as `convex deploy` chooses it
 * (variables from the environment, then .env.local, then .env).
 */

export type DeployPlan = {
  kind: BackendTarget["kind"];
  /** Which deployment, in words. */
  target: string;
  /** The environment the Convex CLI runs with. */
  env: Record<string, string>;
  /** Where HTTP actions are served, when it can be known before deploying. */
  siteUrl: string | null;
  /** The backend's functions URL, when known: checked to answer, and (self-hosted) to be recent enough, before deploying. */
  backendUrl: string | null;
  /** Senders the operator chose not to smoke-check (`--skip-smoke github`); any other unchecked one fails the deploy. */
  skip: SourceName[];
  /** Smoke-check the deployment before --then (`--no-smoke` turns it off). */
  smoke: boolean;
  /** The senders' secrets the smoke check signs with, where given. */
  secrets: Secrets;
  then: string | null;
};

type Options = { then: string | null; smoke: boolean; url: string | null; skip: SourceName[] };

const USAGE = 'the options are --then "<command>", --url <site URL>, --skip-smoke <sender,...> and --no-smoke';

function parseDeployArgs(argv: string[]): Check<Options> {
  const options: Options = { then: null, smoke: true, url: null, skip: [] };
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
      case "--skip-smoke":
        if (value === undefined) {
          return reject("--skip-smoke needs the senders not to check, e.g. --skip-smoke github,slack.");
        }
        try {
          options.skip.push(...skippedSources([value], "--skip-smoke"));
        } catch (error) {
          return reject((error as Error).message);
        }
        i += 1;
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
function target(loaded: LoadedEnv): Check<Omit<DeployPlan, "smoke" | "secrets" | "then" | "skip">> {
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
    const backendUrl = siteUrl === null ? null : siteUrl.replace(/\.convex\.site$/, ".convex.cloud");
    return accept({ kind: "cloud", target: `the cloud deployment of ${deployKeyName}${siteUrl ? ` (${siteUrl})` : ""}`, env: inherited, siteUrl, backendUrl });
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
      backendUrl: url.origin + url.pathname.replace(/\/+$/, ""),
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
      backendUrl: null,
    });
  }
  return reject(NO_TARGET);
}

/** Checks that a deployment target is set, and plans the deploy; names what is missing when it is not. */
export function preflight(loaded: LoadedEnv, argv: string[]): Check<DeployPlan> {
  const swallowed = swallowedOption({ then: { type: "string" }, url: { type: "string" }, "skip-smoke": { type: "string" } }, argv, loaded.values);
  if (swallowed !== null) {
    return reject(swallowed);
  }
  const options = parseDeployArgs(argv);
  if (!options.ok) {
    return options;
  }
  const chosen = target(loaded);
  if (!chosen.ok) {
    return chosen;
  }
  const { then, smoke, url, skip } = options.value;
  const siteUrl = url ?? chosen.value.siteUrl;
  if (smoke && siteUrl === null) {
    return reject(
      chosen.value.kind === "self-hosted"
        ? "The self-hosted backend's site URL (its HTTP actions, port 3211 by default) cannot be known from CONVEX_SELF_HOSTED_URL, and the smoke check needs it: set CONVEX_SITE_ORIGIN or pass --url <site URL>, or --no-smoke to skip the check."
        : "The deployment's site URL cannot be known before deploying, and the smoke check needs it: pass --url https://<deployment>.convex.site (the dashboard's HTTP Actions URL), or --no-smoke to skip the check.",
    );
  }
  return accept({ ...chosen.value, siteUrl, smoke, skip, secrets: secretsFrom({}, loaded.values), then });
}

export const WEBHOOK_PATHS = Object.values(webhookSources).map((source) => source.path);

/** The lines that tell an operator which URLs to give GitHub, Slack and the events senders. */
export function webhookLines(siteUrl: string | null, kind: DeployPlan["kind"] = "cloud"): string[] {
  if (siteUrl === null) {
    return [
      kind === "self-hosted"
        ? "Webhook URLs: the backend's site URL (CONVEX_SITE_ORIGIN, port 3211 by default, as your proxy serves it) followed by"
        : "Webhook URLs: the deployment's site URL (https://<deployment>.convex.site) followed by",
      ...WEBHOOK_PATHS.map((path) => `  ${path}`),
    ];
  }
  return ["Webhook URLs:", ...WEBHOOK_PATHS.map((path) => `  ${siteUrl}${path}`)];
}

export type DeployTools = {
  run: Runner;
  log: (line: string) => void;
  /** Smoke-checks the deployment at `siteUrl`; resolves true when every check passed and every sender not skipped was checked. */
  smoke: (siteUrl: string, secrets: Secrets, skip: SourceName[]) => Promise<boolean>;
  /** Asks a backend what it is (`GET /instance_version`); by default over the network. */
  probe?: (backendUrl: string) => Promise<Probe>;
  generatedDir?: string;
};

/**
 * Deploys, smoke-checks the deployment, then runs the follow-up only when
 * both succeeded; returns the exit code. convex/_generated is left as it was,
 * whatever happens.
 */
export async function deploy(plan: DeployPlan, { run, log, smoke, probe = probeBackend, generatedDir = GENERATED_DIR }: DeployTools): Promise<number> {
  if (plan.backendUrl !== null) {
    const verdict = backendVersionVerdict(plan, await probe(plan.backendUrl));
    verdict.lines.forEach((line) => log(line));
    if (!verdict.ok) {
      return 1;
    }
  }
  log(`Deploying to ${plan.target}...`);
  const saved = snapshot(generatedDir);
  let deployed: number;
  let output = "";
  try {
    // Without codegen: the deployed bundle is the one `npm test` tests, and convex/_generated stays as committed.
    deployed = await run("npx", ["convex", "deploy", "--yes", "--codegen", "disable"], {
      env: plan.env,
      shell: false,
      onOutput: (text) => (output = (output + text).slice(-20_000)),
    });
  } finally {
    restore(saved, generatedDir);
  }
  if (deployed !== 0) {
    log(`convex deploy failed (exit ${deployed})${plan.then ? "; --then was not run" : ""}.`);
    deployFailureAdvice(plan, output).forEach((line) => log(`  ${line}`));
    return deployed;
  }
  if (plan.smoke && plan.siteUrl !== null) {
    log(`Smoke check of ${plan.siteUrl} (npm run smoke${plan.skip.length > 0 ? `, skipping ${plan.skip.join(", ")} as asked` : ""}):`);
    if (!(await smoke(plan.siteUrl, plan.secrets, plan.skip))) {
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
  for (const line of webhookLines(plan.siteUrl, plan.kind)) {
    log(line);
  }
  return 0;
}
