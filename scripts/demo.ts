// `npm run demo`: a work order's whole journey, offline and in-process, on
// this repository's Convex functions (scripts/lib/demo/journey.ts).
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { convexTest } from "convex-test";
import schema from "../convex/schema";
import { isEntry, runTool, terminal, type Io } from "./lib/cli";
import { formatStep, runDemo, type DemoResult } from "./lib/demo/journey";

const CONVEX_DIR = fileURLToPath(new URL("../convex", import.meta.url));

/**
 * convex/'s modules for convex-test, which outside vitest cannot find them
 * itself: every .ts and .js file, keyed by its path (it finds the root by
 * `_generated` and each function by path, without the extension).
 */
export function convexModules(dir = CONVEX_DIR): Record<string, () => Promise<unknown>> {
  const modules: Record<string, () => Promise<unknown>> = {};
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) {
        walk(path);
      } else if (/\.(ts|js)$/.test(entry.name) && !entry.name.endsWith(".d.ts")) {
        modules[`./convex/${relative(dir, path)}`] = () => import(pathToFileURL(path).href);
      }
    }
  };
  walk(dir);
  return modules;
}

export async function main(args: string[], _env: unknown, io: Io): Promise<number> {
  if (args.length > 0) {
    throw new Error(`npm run demo takes no arguments (got ${JSON.stringify(args[0])}).`);
  }
  io.out("A work order's journey, offline: this repository's Convex functions on an embedded backend (convex-test),");
  io.out("with fake Slack and Temporal APIs. Every webhook is signed as its sender signs it; nothing leaves this process.");
  io.out("");
  const started = performance.now();
  const t = convexTest({ schema, modules: convexModules(), transactionLimits: true });
  let index = 0;
  const result: DemoResult = await runDemo(t, (step) => formatStep(step, index++).forEach((line) => io.out(line)));
  const thread = result.slack.messages;
  if (thread.length > 0) {
    io.out("The Slack thread, as its people see it:");
    thread.forEach((message) => io.out(`    ${message.ts}${message.edits ? ` (edited ${message.edits}x)` : ""}  ${message.text.split("\n")[0]}`));
    io.out("");
  }
  io.out(`The order's history: ${result.history.join(" → ")}.`);
  io.out(`Done in ${((performance.now() - started) / 1000).toFixed(1)} s, without network. Next: npm run dev for a real deployment (README.md), npm test for the whole suite.`);
  return 0;
}

if (isEntry(import.meta.url)) {
  process.exit(await runTool("demo", () => main(process.argv.slice(2), {}, terminal)));
}
