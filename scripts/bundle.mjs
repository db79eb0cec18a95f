#!/usr/bin/env node
// `npm run bundle`: runs Convex's real bundler (`convex deploy
// --debug-bundle-path`) into build/bundle, offline. The self-hosted URL is a
// dummy on loopback: the CLI writes the bundle and stops before any network
// call. The tests then run on build/bundle/isolate (JANGAR_TEST_MODULES=bundle).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const OUT = "build/bundle";
const ISOLATE = join(OUT, "isolate");
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
      CONVEX_DEPLOYMENT_TOKEN: "",
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

/**
 * The CLI writes source maps whose `sources` are relative to a directory one
 * level below the project root, not to where the bundle lands; pointed at the
 * real files, stack traces of the bundle run name the sources (and Vite stops
 * warning about missing ones). A dependency's maps may name sources its
 * package does not ship: those get a one-line stand-in as their content.
 */
function pointSourceMapsAtSources(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      pointSourceMapsAtSources(path);
    } else if (entry.name.endsWith(".js.map")) {
      const map = JSON.parse(readFileSync(path, "utf8"));
      const assumedDir = resolve("bundle-root", relative(ISOLATE, dirname(path)));
      map.sources = map.sources.map((source) => relative(dirname(path), resolve(assumedDir, source)));
      map.sourcesContent = map.sources.map((source, index) =>
        map.sourcesContent?.[index] ?? (existsSync(resolve(dirname(path), source)) ? null : `// ${source}: not shipped with its package`),
      );
      writeFileSync(path, JSON.stringify(map));
    }
  }
}
pointSourceMapsAtSources(ISOLATE);
console.log(`bundle: wrote Convex's deploy bundle to ${ISOLATE}`);
