#!/usr/bin/env node
// `npm run dev`: `convex dev` against the configured deployment, or, when
// none is configured, a local anonymous deployment started without prompts.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

const DEPLOYMENT_SETTINGS = [
  "CONVEX_DEPLOYMENT",
  "CONVEX_DEPLOY_KEY",
  "CONVEX_SELF_HOSTED_URL",
];

function configuredIn(text) {
  return DEPLOYMENT_SETTINGS.some((name) =>
    new RegExp(`^\\s*${name}\\s*=\\s*\\S`, "m").test(text),
  );
}

const configured =
  DEPLOYMENT_SETTINGS.some((name) => (process.env[name] ?? "") !== "") ||
  [".env.local", ".env"].some(
    (file) => existsSync(file) && configuredIn(readFileSync(file, "utf8")),
  );

const env = { ...process.env };
if (!configured) {
  env.CONVEX_AGENT_MODE = "anonymous";
  console.log(
    [
      "No Convex deployment is configured: starting a local anonymous deployment.",
      "Its first run downloads Convex's local backend binary from GitHub; later runs reuse it.",
      "It serves functions at http://127.0.0.1:3210 and HTTP actions (webhooks) at http://127.0.0.1:3211.",
      "",
    ].join("\n"),
  );
}

const child = spawn("npx", ["convex", "dev", ...process.argv.slice(2)], {
  stdio: "inherit",
  env,
});
child.on("exit", (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
