// `npm run send -- <fixture or directory>... --url <site URL>`: signs fixture
// payloads as their senders do and posts them to a deployment's HTTP actions.
import { isEntry, parseOptions, runTool, SECRET_OPTIONS, SECRET_USAGE, secretsFrom, siteUrlFrom, terminal, type Io } from "./lib/cli";
import { loadEnv, type Env } from "./lib/env";
import { formatResult, isRejected, loadFixtures, nothingAnswered, send, summarize } from "./lib/send";

const USAGE = `usage: npm run send -- <fixture.json | directory>... [--url <site URL>]
  --url <url>             the deployment's HTTP actions URL (default: CONVEX_SITE_ORIGIN, CONVEX_SITE_URL, or http://127.0.0.1:3211 for npm run dev)
${SECRET_USAGE}
  --repeat <n>            send each delivery n times with the same ids, as a sender retrying (default 1)
  --unique                make each repetition a new delivery (new ids), for load
  --concurrency <n>       deliveries in flight at once (default 1)
Variables are read from the environment, then .env.local, then .env.`;

export async function main(args: string[], env: Env, io: Io): Promise<number> {
  const { values, positionals } = parseOptions({
    args,
    allowPositionals: true,
    options: {
      url: { type: "string" },
      ...SECRET_OPTIONS,
      repeat: { type: "string", default: "1" },
      unique: { type: "boolean", default: false },
      concurrency: { type: "string", default: "1" },
      help: { type: "boolean", default: false },
    },
  }, env);
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  if (positionals.length === 0) {
    throw new Error("no fixtures given: e.g. npm run send -- fixtures/github --url http://127.0.0.1:3211 (see --help).");
  }
  const repeat = Number(values.repeat);
  const concurrency = Number(values.concurrency);
  for (const [option, value] of [["--repeat", repeat], ["--concurrency", concurrency]] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new Error(`${option} takes a whole number of at least 1.`);
    }
  }
  const url = siteUrlFrom(values.url, env);
  const fixtures = loadFixtures(positionals);
  const results = await send(
    fixtures,
    { url, secrets: secretsFrom(values, env), repeat, unique: values.unique, concurrency },
    (result) => io.out(formatResult(result)),
  );
  io.out(summarize(results));
  if (nothingAnswered(results)) {
    io.err(
      `send: nothing answers at ${url}: start a deployment first, npm run serve (an embedded one, no download) or npm run dev, or give the deployment's site URL with --url.`,
    );
  }
  return results.some(isRejected) ? 1 : 0;
}

if (isEntry(import.meta.url)) {
  process.exit(await runTool("send", () => main(process.argv.slice(2), loadEnv().values, terminal)));
}
