// `npm run smoke -- --url <site URL>`: checks that a running deployment
// answers and that each given sender secret matches it (scripts/lib/smoke.ts).
import { isEntry, parseOptions, runTool, SECRET_OPTIONS, SECRET_USAGE, secretsFrom, siteUrlFrom, terminal, type Io } from "./lib/cli";
import { loadEnv, type Env } from "./lib/env";
import { formatCheck, skippedSources, smoke, smokeFailed, summarizeChecks } from "./lib/smoke";

const USAGE = `usage: npm run smoke -- [--url <site URL>]
  --url <url>             the deployment's HTTP actions URL (default: CONVEX_SITE_ORIGIN, CONVEX_SITE_URL, or http://127.0.0.1:3211 for npm run dev)
${SECRET_USAGE}
  --skip <sender,...>     do not check these senders (github, slack, events); any other unchecked one fails
GET /healthz, then for each sender one signed request that changes nothing (GitHub ping, Slack
url_verification, an events type no one acts on). Exits non-zero on any problem, and when a sender
could not be checked (no secret) without being skipped by name.
Variables are read from the environment, then .env.local, then .env.`;

export async function main(args: string[], env: Env, io: Io): Promise<number> {
  const { values, positionals } = parseOptions({
    args,
    allowPositionals: true,
    options: { url: { type: "string" }, ...SECRET_OPTIONS, skip: { type: "string", multiple: true, default: [] }, help: { type: "boolean", default: false } },
  }, env);
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  if (positionals.length > 0) {
    throw new Error(`unexpected argument ${JSON.stringify(positionals[0])}: the site URL goes after --url (see --help).`);
  }
  const url = siteUrlFrom(values.url, env);
  io.out(`smoke: checking ${url}`);
  const skip = skippedSources(values.skip, "--skip");
  const checks = await smoke({ url, secrets: secretsFrom(values, env), skip }, (check) => io.out(formatCheck(check)));
  io.out(summarizeChecks(checks));
  return smokeFailed(checks) ? 1 : 0;
}

if (isEntry(import.meta.url)) {
  process.exit(await runTool("smoke", () => main(process.argv.slice(2), loadEnv().values, terminal)));
}
