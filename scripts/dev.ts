// `npm run dev [-- <convex dev options>]`: see scripts/lib/dev.ts.
import { dev } from "./lib/dev";
import { loadEnv } from "./lib/env";
import { runOnTerminal } from "./lib/run";

process.exit(await dev(loadEnv(), process.argv.slice(2), { run: runOnTerminal, log: (line) => console.error(line) }));
