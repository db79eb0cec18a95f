// @vitest-environment node
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { isRejected, loadFixtures, send, summarize, type Result } from "../scripts/lib/send";
import { newBackend, type Backend } from "./backend";
import { GITHUB_SECRET } from "./github";

const SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const EVENTS_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const secrets = { github: GITHUB_SECRET, slack: SLACK_SECRET, events: EVENTS_SECRET };

/**
 * A real HTTP server on loopback that hands each request to the test
 * backend's HTTP actions, one at a time: convex-test runs one function at a
 * time, while the client sends concurrently.
 */
async function serve(t: Backend): Promise<{ url: string; server: Server }> {
  let previous: Promise<unknown> = Promise.resolve();
  const oneAtATime = <T>(work: () => Promise<T>): Promise<T> => {
    const result = previous.then(work, work);
    previous = result.catch(() => undefined);
    return result;
  };
  const body = async (request: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  const server = createServer(async (request, response) => {
    const headers = new Headers();
    for (const [name, value] of Object.entries(request.headers)) {
      if (typeof value === "string") headers.set(name, value);
    }
    const bytes = new Uint8Array(await body(request));
    const answer = await oneAtATime(() => t.fetch(request.url!, { method: request.method, headers, body: bytes }));
    response.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "application/json" });
    response.end(Buffer.from(await answer.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

let server: Server | undefined;
beforeEach(() => {
  // Scheduled processing would otherwise run beside the next request; convex-test runs one function at a time.
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
  vi.stubEnv("SLACK_SIGNING_SECRET", SLACK_SECRET);
  vi.stubEnv("EVENTS_WEBHOOK_SECRET", EVENTS_SECRET);
});
afterEach(async () => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
  if (server !== undefined) {
    const closing = server;
    closing.closeAllConnections();
    await new Promise((resolve) => closing.close(resolve));
    server = undefined;
  }
});

const outcomes = (results: Result[]) => results.map((result) => `${result.status} ${result.outcome}`).sort();

describe("npm run send, end to end over HTTP", () => {
  test("every shipped fixture is signed as its sender does and accepted", async () => {
    const t = newBackend();
    const running = await serve(t);
    server = running.server;
    const fixtures = loadFixtures(["fixtures/github", "fixtures/slack", "fixtures/events"]);
    expect(new Set(fixtures.map((fixture) => fixture.source))).toEqual(new Set(["github", "slack", "events"]));
    const results = await send(fixtures, { url: running.url, secrets, repeat: 1, unique: false, concurrency: 4 }, () => {});
    expect(results.filter(isRejected)).toEqual([]);
    expect(results).toHaveLength(fixtures.length);
    for (const result of results) {
      expect(["accepted", "ignored", "challenge"]).toContain(result.outcome);
    }
    expect(summarize(results)).toMatch(new RegExp(`^${fixtures.length} sent: `));
  });

  test("repeating a delivery resends it with the same ids: the copies are duplicates", async () => {
    const t = newBackend();
    const running = await serve(t);
    server = running.server;
    const fixtures = loadFixtures(["fixtures/github/04-push.json", "fixtures/slack/03-bob-replies.json", "fixtures/events/01-work_order-running.json"]);
    const results = await send(fixtures, { url: running.url, secrets, repeat: 3, unique: false, concurrency: 1 }, () => {});
    expect(outcomes(results)).toEqual([
      "200 accepted",
      "200 accepted",
      "200 accepted",
      "200 duplicate",
      "200 duplicate",
      "200 duplicate",
      "200 duplicate",
      "200 duplicate",
      "200 duplicate",
    ]);
    const stored = await t.run(async (ctx) => (await ctx.db.query("webhook_deliveries").collect()).length);
    expect(stored).toBe(3);
  });

  test("with --unique each repetition is a new delivery", async () => {
    const t = newBackend();
    const running = await serve(t);
    server = running.server;
    const fixtures = loadFixtures(["fixtures/github/01-ping.json"]);
    const results = await send(fixtures, { url: running.url, secrets, repeat: 4, unique: true, concurrency: 2 }, () => {});
    expect(outcomes(results)).toEqual(Array(4).fill("200 accepted"));
  });

  test("a wrong secret is rejected with 401 for every sender", async () => {
    const t = newBackend();
    const running = await serve(t);
    server = running.server;
    const fixtures = loadFixtures(["fixtures/github/01-ping.json", "fixtures/slack/03-bob-replies.json", "fixtures/events/01-work_order-running.json"]);
    const wrong = { github: "not the secret", slack: "0".repeat(32), events: "whsec_bm90IHRoZSBldmVudHMgc2VjcmV0IGF0IGFsbA==" };
    const results = await send(fixtures, { url: running.url, secrets: wrong, repeat: 1, unique: false, concurrency: 1 }, () => {});
    expect(results.map((result) => result.status)).toEqual([401, 401, 401]);
    expect(results.every(isRejected)).toBe(true);
    expect(await t.run(async (ctx) => (await ctx.db.query("webhook_deliveries").collect()).length)).toBe(0);
  });

  test("a sender without a secret is refused before anything is sent, naming the setting", async () => {
    const fixtures = loadFixtures(["fixtures/events/01-work_order-running.json"]);
    const fetch = vi.fn<typeof globalThis.fetch>();
    await expect(
      send(fixtures, { url: "http://127.0.0.1:9", secrets: {}, repeat: 1, unique: false, concurrency: 1, fetch }, () => {}),
    ).rejects.toThrow(/EVENTS_WEBHOOK_SECRET/);
    expect(fetch).not.toHaveBeenCalled();
  });
});
