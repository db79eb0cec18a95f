import { named, valueOf, type LoadedEnv } from "./env";
import { GENERATED_DIR, restore, snapshot } from "./generated";
import { INTERRUPTED, type Runner } from "./run";

/**
 * `npm run dev`: `convex dev` against the configured deployment or, when none
 * is configured, a local anonymous one started without prompts; afterwards
 * convex/_generated is as it was, and a failure ends with what to do next.
 */

const DEPLOYMENT_SETTINGS = ["CONVEX_DEPLOY_KEY", "CONVEX_DEPLOYMENT_TOKEN", "CONVEX_SELF_HOSTED_URL", "CONVEX_DEPLOYMENT"];

/** The configured deployment setting, or null when `convex dev` would start a local anonymous deployment. */
function configuredSetting(loaded: LoadedEnv): string | null {
  return DEPLOYMENT_SETTINGS.find((name) => valueOf(loaded.values, name) !== undefined) ?? null;
}

/** Whether the deployment runs on this machine: Convex's local backend, downloaded from GitHub on first use. */
function runsLocally(loaded: LoadedEnv): boolean {
  const setting = configuredSetting(loaded);
  return setting === null || (setting === "CONVEX_DEPLOYMENT" && /^(anonymous|local):/.test(valueOf(loaded.values, setting)!));
}

const STARTING_LOCAL = [
  "No Convex deployment is configured: starting a local anonymous deployment.",
  "Its first run downloads Convex's local backend binary from GitHub; later runs reuse it.",
  "It serves functions at http://127.0.0.1:3210 and HTTP actions (webhooks) at http://127.0.0.1:3211.",
  "",
];

/** What to tell someone whose `convex dev` stopped with an error. */
function failureAdvice(loaded: LoadedEnv, code: number): string[] {
  const setting = configuredSetting(loaded);
  const probably = runsLocally(loaded)
    ? "Probably Convex's local backend could not be downloaded: its first run fetches it from GitHub (github.com), which this network may not reach."
    : `Probably the deployment that ${named(loaded, setting!)} names could not be reached, or refused the push: see the lines above.`;
  return [
    "",
    `npm run dev: convex dev stopped (exit ${code}).`,
    `  ${probably}`,
    "  With no download at all: npm run serve runs these functions on an embedded backend, on the same ports (3210 and 3211),",
    "  for development only (nothing is kept); npm run send, smoke and doctor and ConvexHttpClient work against it.",
    "  Works offline too: npm test (the whole suite) and npm run demo (a work order's journey, in-process).",
    "  Or develop against a backend you can reach: a self-hosted one (CONVEX_SELF_HOSTED_URL and CONVEX_SELF_HOSTED_ADMIN_KEY in .env.local),",
    "  or a cloud deployment (npx convex login, then npm run dev again). See docs/troubleshooting.md.",
  ];
}

export type DevTools = { run: Runner; log: (line: string) => void; generatedDir?: string };

/** Runs `convex dev`; returns its exit code. */
export async function dev(loaded: LoadedEnv, argv: string[], { run, log, generatedDir = GENERATED_DIR }: DevTools): Promise<number> {
  const env = Object.fromEntries(
    Object.entries(loaded.values).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  if (configuredSetting(loaded) === null) {
    env.CONVEX_AGENT_MODE = "anonymous";
    STARTING_LOCAL.forEach((line) => log(line));
  }
  const saved = snapshot(generatedDir);
  let code: number;
  try {
    code = await run("npx", ["convex", "dev", ...argv], { env, shell: false });
  } finally {
    const restored = restore(saved, generatedDir);
    if (restored.length > 0) {
      log(
        `npm run dev: put ${restored.map((file) => `${generatedDir}/${file}`).join(", ")} back as it was (convex dev writes its deployment's form). ` +
          "After adding, removing or renaming functions, run npm run codegen and commit what it changes.",
      );
    }
  }
  if (code !== 0 && code !== INTERRUPTED) {
    failureAdvice(loaded, code).forEach((line) => log(line));
  }
  return code;
}
