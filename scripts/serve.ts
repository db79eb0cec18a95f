// `npm run serve [-- --port 3210 --site-port 3211]`: this repository's
// functions on an embedded backend, on loopback, for development only
// (scripts/lib/serve/server.ts).
import { isEntry, parseOptions, runTool, terminal, type Io } from "./lib/cli";
import { loadEnv, type Env } from "./lib/env";
import { convexModules } from "./lib/modules";
import { banner } from "./lib/serve/banner";
import { serve, type Served } from "./lib/serve/server";

const USAGE = `usage: npm run serve -- [--port <n>] [--site-port <n>]
  --port <n>       the functions API (ConvexHttpClient, npx convex run); default 3210
  --site-port <n>  the site: webhooks and /healthz; default 3211
Development only: the data lives in memory and is gone when it stops.
Settings are read from the environment, then .env.local, then .env; the README's development secrets fill the rest.`;

function port(value: string, option: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0 || number > 65535) {
    throw new Error(`${option} takes a port number (0 to 65535), not ${JSON.stringify(value)}.`);
  }
  return number;
}

/** Starts serving; resolves with the running backend (the script then waits for Ctrl-C). */
export async function start(args: string[], env: Env, io: Io): Promise<Served | null> {
  const { values, positionals } = parseOptions({
    args,
    allowPositionals: true,
    options: { port: { type: "string", default: "3210" }, "site-port": { type: "string", default: "3211" }, help: { type: "boolean", default: false } },
  }, env);
  if (values.help) {
    io.out(USAGE);
    return null;
  }
  if (positionals.length > 0) {
    throw new Error(`unexpected argument ${JSON.stringify(positionals[0])} (see --help).`);
  }
  const served = await serve({
    modules: convexModules(),
    given: env,
    functionsPort: port(values.port, "--port"),
    sitePort: port(values["site-port"], "--site-port"),
    log: io.err,
  });
  banner(served).forEach((line) => io.out(line));
  return served;
}

if (isEntry(import.meta.url)) {
  let served: Served | null = null;
  const code = await runTool("serve", async () => {
    served = await start(process.argv.slice(2), loadEnv().values, terminal);
    return 0;
  });
  if (served === null) {
    process.exit(code);
  }
  const stop = () => {
    void served!.close().finally(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
