#!/usr/bin/env node
// Prints `N passed, N failed` from the vitest JSON reports in a directory and
// exits non-zero when anything failed, including a step before the tests
// (lint, typecheck, codegen drift, install), whose non-zero status is passed in.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const [dir = "build/test-results", statusArg = "0"] = process.argv.slice(2);
let passed = 0;
let failed = 0;
const reports = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".json")) : [];
for (const file of reports) {
  const report = JSON.parse(readFileSync(join(dir, file), "utf8"));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
}
if (Number(statusArg) !== 0 && failed === 0) {
  failed = 1;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
