import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { readFixture } from "../send";

/** The deployment's settings in the demo: every sender, Temporal launching, a Slack bot. */
export const DEMO_SETTINGS = {
  JANGAR_SERVICE_IDENTITIES: "https://jangar.internal|jangar-server",
  GITHUB_WEBHOOK_SECRET: "demo-github-secret",
  SLACK_SIGNING_SECRET: "demo-slack-signing-secret",
  SLACK_BOT_USER_ID: "U0JANGAR",
  SLACK_BOT_TOKEN: "xoxb-demo-bot-token",
  EVENTS_WEBHOOK_SECRET: "whsec_ZGVtby1ldmVudHMtc2lnbmluZy1rZXk=",
  JANGAR_EVENTS_URL: "https://jangar.demo/events",
  JANGAR_EVENTS_SECRET: "whsec_ZGVtby1qYW5nYXItZXZlbnRzLW91dC1rZXk=",
  TEMPORAL_HTTP_URL: "http://temporal.demo:7243",
  TEMPORAL_NAMESPACE: "jangar",
  TEMPORAL_TASK_QUEUE: "codex",
  JANGAR_WORKFLOW_TYPES: "codex-implement",
  // The GitHub App, with the test-only key of fixtures/github-app/, and a fake GitHub API.
  GITHUB_APP_SLUG: "jangar",
  GITHUB_APP_ID: "424242",
  GITHUB_APP_PRIVATE_KEY: readFileSync(new URL("../../../fixtures/github-app/app.pkcs1.pem", import.meta.url), "utf8"),
  GITHUB_API_URL: "https://api.github.demo",
} as const;

/** Who and where the demo plays: Jangar's server as a service, the repository, Alice's workspace and channel. */
export const SERVICE = { issuer: "https://jangar.internal", subject: "jangar-server", tokenIdentifier: "https://jangar.internal|jangar-server" };
export const REPO = { url: "https://github.com/Codertocat/Hello-World", branch: "changes" };
export const TEAM = "T0ACME";
export const CHANNEL = "C0AB1";
export const ALICE = "U01ALICE";

/** A delivery of fixtures/, as its sender sends it. */
export const fixture = (path: string) => readFixture(fileURLToPath(new URL(`../../../fixtures/${path}`, import.meta.url)));
