// @vitest-environment node
import type { Server } from "node:http";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import type { Runner } from "../../scripts/lib/run";
import { main } from "../../scripts/deploy";
import { newBackend } from "../helpers/backend";
import { ADMIN_KEY, inEnvironment, recentBackend } from "../helpers/deploy";
import { EVENTS_SECRET } from "../helpers/senders/events";
import { GITHUB_SECRET } from "../helpers/senders/github";
import { closeServer, serveOnLoopback } from "../helpers/loopback";
import { SLACK_SECRET } from "../helpers/senders/slack";

describe("npm run deploy against a deployment over HTTP (the Convex CLI stubbed)", () => {
  let server: Server | undefined;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    vi.stubEnv("EVENTS_WEBHOOK_SECRET", EVENTS_SECRET);
  });
  afterEach(async () => {
    vi.useRealTimers();
    vi.unstubAllEnvs();
    if (server !== undefined) await closeServer(server);
  });

  test("a deployment without SLACK_SIGNING_SECRET never gets its --then: the smoke check says which secret is not set", async () => {
    const running = await serveOnLoopback(newBackend());
    server = running.server;
    const out: string[] = [];
    const run = vi.fn<Runner>().mockResolvedValue(0);
    const loaded = inEnvironment({
      CONVEX_SELF_HOSTED_URL: "https://convex.example.com",
      CONVEX_SELF_HOSTED_ADMIN_KEY: ADMIN_KEY,
      CONVEX_SITE_ORIGIN: running.url,
      GITHUB_WEBHOOK_SECRET: GITHUB_SECRET,
      SLACK_SIGNING_SECRET: SLACK_SECRET,
      EVENTS_WEBHOOK_SECRET: EVENTS_SECRET,
    });
    const code = await main(["--then", "kubectl apply -f jangar.yaml"], loaded, { out: (line) => out.push(line), err: (line) => out.push(line) }, run, recentBackend);

    expect(code).toBe(1);
    expect(run.mock.calls.map(([command]) => command)).toEqual(["npx"]);
    expect(out).toContainEqual(expect.stringMatching(/^ {2}ok\s+healthz/));
    expect(out).toContainEqual(expect.stringMatching(/^ {2}ok\s+github/));
    expect(out).toContainEqual(expect.stringMatching(/^ {2}FAIL\s+slack\s+503\s+secret not set on the deployment: npx convex env set SLACK_SIGNING_SECRET/));
    expect(out).toContainEqual(expect.stringMatching(/^ {2}ok\s+events/));
    expect(out.at(-1)).toMatch(/The smoke check failed, so --then was not run/);
  });
});
