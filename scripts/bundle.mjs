#!/usr/bin/env node
// `npm run bundle`: runs Convex's real bundler (`convex deploy
// --debug-bundle-path`) into build/bundle, offline. The self-hosted URL is a
// dummy on loopback: the CLI writes the bundle and stops before any network
// call. The tests then run on build/bundle/isolate (JANGAR_TEST_MODULES=bundle).
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";

const OUT = "build/bundle";
rmSync(OUT, { recursive: true, force: true });
mkdirSync("build", { recursive: true });

const result = spawnSync(
  "npx",
  [
    "convex", "deploy", "--debug-bundle-path", OUT,
    "--typecheck", "disable", "--codegen", "disable", "-y",
  ],
  {
    stdio: ["ignore", "pipe", "pipe"],
    encoding: "utf8",
    env: {
      ...process.env,
      // Empty values override a developer's .env.local, which the CLI also reads.
      CONVEX_DEPLOYMENT: "",
      CONVEX_DEPLOY_KEY: "",
      CONVEX_SELF_HOSTED_URL: "http://127.0.0.1:9",
      CONVEX_SELF_HOSTED_ADMIN_KEY: "convex-self-hosted|00",
    },
  },
);
if (result.status !== 0) {
  process.stderr.write(result.stdout + result.stderr);
  console.error("bundle: convex deploy --debug-bundle-path failed.");
  process.exit(1);
}
console.log(`bundle: wrote Convex's deploy bundle to ${OUT}/isolate`);
