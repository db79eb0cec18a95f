// `npm run doctor -- [--url <functions URL>] [--admin-key <key>]`: what the
// deployment can do with its settings, and what is missing
// (scripts/lib/doctor.ts). Values are never shown.
import { isEntry, parseOptions, runTool, terminal, type Io } from "./lib/cli";
import { askSettings, doctorReport, doctorTarget, LOCAL_FUNCTIONS_URL } from "./lib/doctor";
import { loadEnv, type Env } from "./lib/env";

const USAGE = `usage: npm run doctor -- [--url <functions URL>] [--admin-key <key>]
  --url <url>        the deployment's functions URL (default: CONVEX_SELF_HOSTED_URL, CONVEX_URL,
                     the deploy key's deployment, or ${LOCAL_FUNCTIONS_URL} for npm run serve)
  --admin-key <key>  default: CONVEX_SELF_HOSTED_ADMIN_KEY, CONVEX_ADMIN_KEY, CONVEX_DEPLOY_KEY, or npm run serve's
Asks the deployment (doctor:settings, an internal query) which settings are set, missing or malformed,
and prints what works per capability. It never prints a value. Exits 1 when a setting must be fixed.`;

export async function main(args: string[], env: Env, io: Io): Promise<number> {
  const { values, positionals } = parseOptions(
    {
      args,
      allowPositionals: true,
      options: { url: { type: "string" }, "admin-key": { type: "string" }, help: { type: "boolean", default: false } },
    },
    env,
  );
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  if (positionals.length > 0) {
    throw new Error(`unexpected argument ${JSON.stringify(positionals[0])}: the URL goes after --url (see --help).`);
  }
  const target = doctorTarget({ url: values.url, adminKey: values["admin-key"] }, env);
  io.out(`doctor: asking ${target.url} which settings are set (values are never shown)`);
  const report = doctorReport(await askSettings(target));
  report.lines.forEach((line) => io.out(line));
  return report.failed ? 1 : 0;
}

if (isEntry(import.meta.url)) {
  process.exit(await runTool("doctor", () => main(process.argv.slice(2), loadEnv().values, terminal)));
}
