import { CAPABILITIES, type Capability, type SettingName, type SettingState } from "../../src/settings";
import { valueOf, type Env } from "./env";
import { runAsAdmin } from "./functionsApi";
import { DEVELOPMENT_ADMIN_KEY } from "./serve/settings";

/**
 * `npm run doctor`: asks a deployment which of its settings are set, missing
 * or malformed (convex/doctor.ts, which never answers a value), and prints,
 * per capability, whether it works and what it lacks.
 */

export const LOCAL_FUNCTIONS_URL = "http://127.0.0.1:3210";

/** The functions URL of a cloud deployment named in a deploy key (`prod:happy-otter-123|...`). */
function cloudUrlOfDeployKey(key: string): string | null {
  const match = /^(?:prod|dev|preview):([a-z]+-[a-z]+-\d+)\|/.exec(key);
  return match ? `https://${match[1]}.convex.cloud` : null;
}

export type Target = { url: string; adminKey: string; keyFrom: string };

/**
 * Which deployment to ask, and with which admin key: the options, else the
 * self-hosted settings, else a deploy key, else `npm run serve` on this
 * machine (whose development key is public).
 */
export function doctorTarget(options: { url?: string; adminKey?: string }, env: Env): Target {
  const deployKey = valueOf(env, "CONVEX_DEPLOY_KEY");
  const url =
    options.url ?? valueOf(env, "CONVEX_SELF_HOSTED_URL") ?? valueOf(env, "CONVEX_URL") ?? (deployKey ? cloudUrlOfDeployKey(deployKey) : null) ?? LOCAL_FUNCTIONS_URL;
  const named = (["CONVEX_SELF_HOSTED_ADMIN_KEY", "CONVEX_ADMIN_KEY", "CONVEX_DEPLOY_KEY"] as const).find((name) => valueOf(env, name) !== undefined);
  if (options.adminKey !== undefined) {
    return { url, adminKey: options.adminKey, keyFrom: "--admin-key" };
  }
  if (named !== undefined) {
    return { url, adminKey: valueOf(env, named)!, keyFrom: named };
  }
  return { url, adminKey: DEVELOPMENT_ADMIN_KEY, keyFrom: "npm run serve's development key" };
}

export async function askSettings(target: Target, doFetch?: typeof fetch): Promise<SettingState[]> {
  try {
    return (await runAsAdmin(target.url, target.adminKey, "doctor:settings", {}, doFetch)) as SettingState[];
  } catch (error) {
    const message = (error as Error).message;
    if (/Could not find (public )?function/.test(message)) {
      throw new Error(`${target.url} has no doctor:settings: deploy this code first (npm run deploy, or npm run dev).`, { cause: error });
    }
    if (/refused the admin key/.test(message)) {
      throw new Error(
        `${message}. Give the deployment's admin key with --admin-key (npm run serve prints its own; a self-hosted backend's comes from docker compose exec backend ./generate_admin_key.sh; a cloud deployment's is a deploy key), used: ${target.keyFrom}.`,
        { cause: error },
      );
    }
    throw error;
  }
}

export type Verdict = { capability: Capability; state: "works" | "off" | "incomplete" | "malformed"; lines: string[] };

export function judge(capability: Capability, states: ReadonlyMap<string, SettingState>): Verdict {
  const of = (name: SettingName) => states.get(name) ?? { name, state: "missing" as const };
  const malformed = [...capability.needs, ...capability.optional].map(of).filter((state) => state.state === "malformed");
  const missing = capability.needs.filter((name) => of(name).state === "missing");
  const optionalSet = capability.optional.filter((name) => of(name).state === "set");
  if (malformed.length > 0) {
    return {
      capability,
      state: "malformed",
      lines: malformed.map((state) => `${state.name} is malformed: ${"why" in state ? state.why : ""}; fix it with npx convex env set ${state.name} <value>`),
    };
  }
  if (missing.length === 0) {
    return { capability, state: "works", lines: optionalSet.length > 0 ? [`with ${optionalSet.join(", ")}`] : [] };
  }
  const fix = `npx convex env set ${missing[0]} <value>${missing.length > 1 ? `, and so ${missing.slice(1).join(", ")}` : ""}`;
  if (capability.needs[0] !== undefined && of(capability.needs[0]).state === "missing") {
    return { capability, state: "off", lines: [`to turn it on: ${fix} (docs/environment.md)`] };
  }
  return { capability, state: "incomplete", lines: [`${missing.join(", ")} missing: ${fix}`] };
}

const MARK = { works: "ok", off: "off", incomplete: "FAIL", malformed: "FAIL" } as const;

export function doctorReport(states: SettingState[]): { lines: string[]; failed: boolean } {
  const byName = new Map(states.map((state) => [state.name, state]));
  const verdicts = CAPABILITIES.map((capability) => judge(capability, byName));
  const lines = verdicts.flatMap((verdict) => [
    `${MARK[verdict.state].padEnd(4)}  ${verdict.capability.name.padEnd(13)}  ${verdict.capability.does}`,
    ...verdict.lines.map((line) => `${" ".repeat(21)}${line}`),
  ]);
  const count = (state: Verdict["state"]) => verdicts.filter((verdict) => verdict.state === state).length;
  const broken = count("incomplete") + count("malformed");
  lines.push(`doctor: ${count("works")} working, ${count("off")} off (not configured), ${broken} to fix.`);
  return { lines, failed: broken > 0 };
}
