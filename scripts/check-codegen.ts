// `npm run check:codegen`: see scripts/lib/codegen.ts.
import { spawnSync } from "node:child_process";
import { committedSnapshot, judgeCodegen, OFFLINE_CODEGEN } from "./lib/codegen";
import { snapshot } from "./lib/generated";

const before = snapshot();
const result = spawnSync("npx", OFFLINE_CODEGEN, { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
if (result.status !== 0) {
  process.stderr.write(result.stdout + result.stderr);
  console.error("check:codegen: convex codegen failed (see above); convex/ must bundle before its code can be generated.");
  process.exit(1);
}
const verdict = judgeCodegen(before, snapshot(), committedSnapshot());
for (const line of verdict.lines) {
  (verdict.ok ? console.log : console.error)(line);
}
process.exit(verdict.ok ? 0 : 1);
