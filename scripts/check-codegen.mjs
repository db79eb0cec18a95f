#!/usr/bin/env node
// `npm run check:codegen`: regenerates convex/_generated offline and fails
// when the files on disk (the committed ones, on a clean clone) differ.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const DIR = "convex/_generated";
const snapshot = () =>
  Object.fromEntries(readdirSync(DIR).map((file) => [file, readFileSync(join(DIR, file), "utf8")]));

const before = snapshot();
const result = spawnSync(
  "npx",
  ["convex", "codegen", "--system-udfs", "--init", "--typecheck", "disable"],
  { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" },
);
if (result.status !== 0) {
  process.stderr.write(result.stdout + result.stderr);
  console.error("check:codegen: convex codegen failed.");
  process.exit(1);
}
const after = snapshot();
const changed = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter(
  (file) => before[file] !== after[file],
);
if (changed.length > 0) {
  console.error(
    `check:codegen: ${DIR} was out of date (${changed.join(", ")}); it has been regenerated: commit it.`,
  );
  process.exit(1);
}
console.log(`check:codegen: ${DIR} is up to date.`);
