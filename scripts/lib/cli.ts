import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { SOURCES } from "../../src/sources/source";
import { valueOf, type Env } from "./env";
import { SECRET_VARIABLES, type Secrets } from "./send";

/** What the command-line tools share: the secret and URL options, and one-line errors. */

/** `--github-secret`, `--slack-secret`, `--events-secret`, as `npm run send` and `npm run smoke` take them. */
export const SECRET_OPTIONS = Object.fromEntries(
  SOURCES.map((source) => [`${source}-secret`, { type: "string" }]),
) as Record<`${(typeof SOURCES)[number]}-secret`, { type: "string" }>;

export const SECRET_USAGE = SOURCES.map(
  (source) => `  --${`${source}-secret <s>`.padEnd(22)}default: ${SECRET_VARIABLES[source]}`,
).join("\n");

/** Each sender's secret: the option, else the variable the deployment uses for it. */
export function secretsFrom(values: Record<string, unknown>, env: Env): Secrets {
  return Object.fromEntries(
    SOURCES.map((source) => [source, (values[`${source}-secret`] as string | undefined) ?? valueOf(env, SECRET_VARIABLES[source])]),
  );
}

export const LOCAL_SITE_URL = "http://127.0.0.1:3211";

/**
 * Where the deployment serves HTTP actions: `--url`, else CONVEX_SITE_ORIGIN
 * (self-hosted), else CONVEX_SITE_URL (which `convex dev` writes to
 * .env.local), else `npm run dev`'s local deployment.
 */
export function siteUrlFrom(url: string | undefined, env: Env): string {
  const chosen = url ?? valueOf(env, "CONVEX_SITE_ORIGIN") ?? valueOf(env, "CONVEX_SITE_URL") ?? LOCAL_SITE_URL;
  return checkedSiteUrl(chosen);
}

export function checkedSiteUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`${JSON.stringify(url)} is not a URL: give the deployment's site URL, e.g. --url https://happy-otter-123.convex.site.`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new Error(`${url} is not an http(s) URL: give the deployment's site URL, e.g. --url https://happy-otter-123.convex.site.`);
  }
  return url.replace(/\/+$/, "");
}

/**
 * An option npm kept for itself: `npm run smoke --url X`, without `--`,
 * makes npm read `--url` as its own setting (npm_config_url in the
 * environment) and pass only `X` on. Null when none was.
 */
export function swallowedOption(options: Readonly<Record<string, { type: "string" | "boolean" }>>, args: readonly string[], env: Env): string | null {
  const optionNames = Object.keys(options);
  if (env.npm_lifecycle_event === undefined) {
    return null;
  }
  const swallowed = optionNames.find(
    (name) => env[`npm_config_${name.replaceAll("-", "_")}`] !== undefined && !args.some((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`)),
  );
  if (swallowed === undefined) {
    return null;
  }
  // `--url X` leaves npm_config_url "true" and X first among the arguments; `--url=X` leaves X in the variable.
  const kept = env[`npm_config_${swallowed.replaceAll("-", "_")}`]!;
  const [value, rest] = options[swallowed].type === "boolean" ? [undefined, args] : kept === "true" ? [args[0], args.slice(1)] : [kept, args];
  const again = [`--${swallowed}`, ...(value === undefined ? [] : [value]), ...rest].join(" ");
  return `npm took --${swallowed} for itself, so the tool never saw it: add -- before the options, as in npm run ${env.npm_lifecycle_event} -- ${again}`;
}

/** Parses the options; a mistake is an error that points at --help, or at the missing `--` when npm kept an option. */
export function parseOptions<T extends ParseArgsConfig>(config: T, env: Env = {}): ReturnType<typeof parseArgs<T>> {
  const swallowed = swallowedOption(config.options ?? {}, config.args ?? [], env);
  if (swallowed !== null) {
    throw new Error(swallowed);
  }
  try {
    return parseArgs(config);
  } catch (error) {
    throw new Error(`${(error as Error).message.replace(/\.$/, "")}. See --help.`, { cause: error });
  }
}

/** Where a tool writes: its output and its errors. */
export type Io = { out: (line: string) => void; err: (line: string) => void };

export const terminal: Io = { out: (line) => console.log(line), err: (line) => console.error(line) };

/**
 * Runs a tool's main function and returns its exit code; any error ends the
 * run with one line, `<tool>: <what is wrong and how to fix it>`, and code 2
 * (with DEBUG set, the stack follows).
 */
export async function runTool(tool: string, main: () => Promise<number>, io: Io = terminal): Promise<number> {
  try {
    return await main();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    io.err(`${tool}: ${message.split("\n")[0]}`);
    if (process.env.DEBUG) {
      console.error(error);
    }
    return 2;
  }
}

/** Whether the module at `moduleUrl` is the script being run (not imported by a test). */
export function isEntry(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && pathToFileURL(resolve(process.argv[1])).href === moduleUrl;
}
