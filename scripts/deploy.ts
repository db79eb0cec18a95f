// `npm run deploy [-- --then "<command>"] [--url <site URL>] [--skip-smoke <sender,...>] [--no-smoke]`:
// preflight, `convex deploy`, the smoke check, the follow-up command, then
// the webhook URLs (scripts/lib/deploy.ts).
import { isEntry, runTool, terminal, type Io } from "./lib/cli";
import { probeBackend, type Probe } from "./lib/backendCheck";
import { deploy, preflight } from "./lib/deploy";
import { loadEnv, type LoadedEnv } from "./lib/env";
import { runOnTerminal, type Runner } from "./lib/run";
import { formatCheck, smoke, smokeFailed } from "./lib/smoke";

export async function main(
  args: string[],
  loaded: LoadedEnv,
  io: Io,
  run: Runner = runOnTerminal,
  probe: (backendUrl: string) => Promise<Probe> = probeBackend,
): Promise<number> {
  const checked = preflight(loaded, args);
  if (!checked.ok) {
    throw new Error(checked.message);
  }
  return await deploy(checked.value, {
    run,
    probe,
    log: io.out,
    smoke: async (url, secrets, skip) => !smokeFailed(await smoke({ url, secrets, skip }, (check) => io.out(`  ${formatCheck(check)}`))),
  });
}

if (isEntry(import.meta.url)) {
  process.exit(await runTool("deploy", () => main(process.argv.slice(2), loadEnv(), terminal)));
}
