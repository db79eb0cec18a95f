import { DEVELOPMENT_DEFAULTS, DEVELOPMENT_SERVICE } from "./settings";
import type { Served } from "./server";

/** What `npm run serve` prints once it listens: what it is, where, how to reach it, and what it keeps (nothing). */
export function banner(served: Served): string[] {
  const { functionsUrl, siteUrl, settings } = served;
  const secretsFromDefaults = (["GITHUB_WEBHOOK_SECRET", "SLACK_SIGNING_SECRET", "EVENTS_WEBHOOK_SECRET"] as const)
    .filter((name) => settings.defaulted.includes(name))
    .map((name) => `${name}=${DEVELOPMENT_DEFAULTS[name]}`);
  const service = settings.defaulted.includes("JANGAR_SERVICE_IDENTITIES")
    ? `the service identity ${DEVELOPMENT_SERVICE.issuer}|${DEVELOPMENT_SERVICE.subject} (JANGAR_SERVICE_IDENTITIES)`
    : "an identity listed in JANGAR_SERVICE_IDENTITIES";
  return [
    "npm run serve: FOR DEVELOPMENT ONLY. This repository's functions on an embedded backend (convex-test) in this process.",
    "Everything is kept in memory and is gone when it stops: nothing is written to disk, and there is no dashboard.",
    "",
    `  functions (ConvexHttpClient, npx convex run)  ${functionsUrl}`,
    `  site: webhooks and /healthz (HTTP actions)    ${siteUrl}`,
    `  admin key (development only)                  ${settings.adminKey}`,
    "",
    ...served.outside.lines.map((line) => `  ${line}`),
    `  crons           run on their schedules${served.cronsNotRun.length > 0 ? `, except ${served.cronsNotRun.join(", ")}` : ""}; scheduled functions run when due`,
    ...(settings.defaulted.length > 0 ? [`  settings        the development defaults for ${settings.defaulted.join(", ")} (give others in the environment or .env.local)`] : []),
    "",
    "Try it:",
    `  ${secretsFromDefaults.join(" ")} npm run send -- fixtures/github fixtures/slack fixtures/events --url ${siteUrl}`.replace(/^ {2} /, "  "),
    `  ${secretsFromDefaults.join(" ")} npm run smoke -- --url ${siteUrl}`.replace(/^ {2} /, "  "),
    `  npm run doctor -- --url ${functionsUrl} --admin-key '${settings.adminKey}'`,
    `  npx convex run --url ${functionsUrl} --admin-key '${settings.adminKey}' ingest:inboxStatus`,
    `  Jangar's server (the service client): connectHttp("${functionsUrl}", await serviceTokens(JANGAR_SERVICE_KEY))`,
    "    with any JANGAR_SERVICE_KEY (npm run service-key makes one): tokens are decoded here, not verified;",
    `    a JWT's iss and sub are the identity, and ${service} acts as the service.`,
    `  Or ConvexHttpClient: setAuth(<JWT>), or setAdminAuth("<admin key>", { issuer, subject }).`,
    "Ctrl-C stops it.",
  ];
}
