import { beforeEach, describe, expect, test, vi } from "vitest";
import { GithubApp, TOKEN_RENEWAL_MS, type GithubRequest } from "../../src/github/app";
import { withFakeClock } from "../helpers/clock";
import { APP_KEY, appSettings, derOf, expectNoPieceOf, fakeGithub, OTHER_APP_KEY, TEST_APP_ID } from "../helpers/github/app";

withFakeClock();
const START = Date.parse("2026-01-05T10:00:00Z");
beforeEach(() => {
  vi.setSystemTime(START);
});

const comment = (text = "Done."): GithubRequest => ({
  method: "POST",
  path: "/repos/acme/api/issues/7/comments",
  body: { body: text },
  auth: { installationId: 42 },
});

function claimsOf(jwt: string): Record<string, unknown> {
  const payload = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(payload.padEnd(Math.ceil(payload.length / 4) * 4, "="))) as Record<string, unknown>;
}

/**
 * The promise's outcome, the fake clock moved on a second at a time until
 * it settles: polled in real time, so that work the clock does not drive
 * (Web Crypto, streams) runs in between, however busy the machine.
 */
async function settled<T>(promise: Promise<T>): Promise<T> {
  let done = false;
  void promise.finally(() => {
    done = true;
  });
  await vi.waitFor(
    () => {
      vi.advanceTimersByTime(1000);
      expect(done).toBe(true);
    },
    { timeout: 30_000, interval: 10 },
  );
  return await promise;
}

describe("requests as the App", () => {
  test.each(["pkcs1", "pkcs8"] as const)("a %s key signs a JWT GitHub verifies: iss the App, iat 60 s back, exp 9 minutes on", async (format) => {
    const github = fakeGithub();
    const app = new GithubApp(appSettings({ GITHUB_APP_PRIVATE_KEY: APP_KEY[format] }));
    const answer = await app.request({ method: "GET", path: "/app/hook/deliveries?per_page=100", auth: "app" }, github.fetch);
    expect(answer).toEqual({ kind: "ok", status: 200, body: [] });
    expect(github.calls).toMatchObject([{ method: "GET", path: "/app/hook/deliveries", query: { per_page: "100" }, auth: "app", status: 200 }]);
    const jwt = /^Bearer (.+)$/.exec(github.calls[0].headers.authorization)?.[1] ?? "";
    expect(claimsOf(jwt)).toEqual({ iss: TEST_APP_ID, iat: START / 1000 - 60, exp: START / 1000 + 540 });
  });

  test("a JWT signed with another App's key is refused by GitHub, and the request fails for good", async () => {
    const github = fakeGithub();
    const app = new GithubApp(appSettings({ GITHUB_APP_PRIVATE_KEY: OTHER_APP_KEY }));
    const answer = await app.request(comment(), github.fetch);
    expect(answer).toEqual({
      kind: "failed",
      status: 401,
      error: expect.stringMatching(/^Buying a token for installation 42: HTTP 401 \(request FAKE:\d+\): A JSON web token could not be decoded$/),
    });
    expect(github.comments).toEqual([]);
  });

  test("every request carries GitHub's headers", async () => {
    const github = fakeGithub();
    await new GithubApp(appSettings()).request(comment(), github.fetch);
    expect(github.calls.at(-1)?.headers).toMatchObject({
      accept: "application/vnd.github+json",
      "x-github-api-version": "2022-11-28",
      "user-agent": "jangar-persistence",
      authorization: expect.stringMatching(/^Bearer ghs_/),
      "content-type": "application/json; charset=utf-8",
    });
  });

  test("a GitHub Enterprise Server root takes the same paths under /api/v3", async () => {
    const github = fakeGithub({ baseUrl: "https://ghe.example.com/api/v3" });
    const app = new GithubApp(appSettings({ GITHUB_API_URL: "https://ghe.example.com/api/v3" }));
    expect(await app.request(comment(), github.fetch)).toMatchObject({ kind: "ok", status: 201 });
    expect(github.calls.map((call) => `${call.method} ${call.path}`)).toEqual([
      "POST /app/installations/42/access_tokens",
      "POST /repos/acme/api/issues/7/comments",
    ]);
  });
});

describe("installation tokens", () => {
  test("one token serves every request until 5 minutes before it expires; then a fresh one is bought", async () => {
    const github = fakeGithub();
    const app = new GithubApp(appSettings());
    await app.request(comment("one"), github.fetch);
    vi.setSystemTime(START + 60 * 60_000 - TOKEN_RENEWAL_MS - 1);
    await app.request(comment("two"), github.fetch);
    expect(github.tokensIssued.get(42)).toBe(1);
    vi.setSystemTime(START + 60 * 60_000 - TOKEN_RENEWAL_MS);
    await app.request(comment("three"), github.fetch);
    expect(github.tokensIssued.get(42)).toBe(2);
    expect(github.comments.map((posted) => posted.body)).toEqual(["one", "two", "three"]);
  });

  test("a token GitHub answers for an hour less than that is renewed by its own expiry", async () => {
    const github = fakeGithub({ tokenLifetimeMs: 10 * 60_000 });
    const app = new GithubApp(appSettings());
    await app.request(comment(), github.fetch);
    vi.setSystemTime(START + 5 * 60_000);
    await app.request(comment(), github.fetch);
    expect(github.tokensIssued.get(42)).toBe(2);
  });

  test("each installation has its own token", async () => {
    const github = fakeGithub({ installations: { 42: ["acme/api"], 43: ["acme/web"] } });
    const app = new GithubApp(appSettings());
    await app.request(comment(), github.fetch);
    await app.request({ ...comment(), path: "/repos/acme/web/issues/1/comments", auth: { installationId: 43 } }, github.fetch);
    expect(Object.fromEntries(github.tokensIssued)).toEqual({ 42: 1, 43: 1 });
    expect(github.comments.map((posted) => posted.repository)).toEqual(["acme/api", "acme/web"]);
  });

  test("a token GitHub no longer takes (401) is dropped and bought again, once", async () => {
    const github = fakeGithub();
    const app = new GithubApp(appSettings());
    await app.request(comment("first"), github.fetch);
    github.answerFor("POST /repos/", { status: 401, body: { message: "Bad credentials" } });
    expect(await app.request(comment("second"), github.fetch)).toMatchObject({ kind: "ok", status: 201 });
    expect(github.tokensIssued.get(42)).toBe(2);
    expect(github.comments.map((posted) => posted.body)).toEqual(["first", "second"]);
  });

  test("an installation GitHub does not know fails the request for good", async () => {
    const github = fakeGithub({ installations: { 42: ["acme/api"] } });
    const answer = await new GithubApp(appSettings()).request({ ...comment(), auth: { installationId: 7 } }, github.fetch);
    expect(answer).toMatchObject({ kind: "failed", status: 404, error: expect.stringMatching(/^Buying a token for installation 7: HTTP 404/) });
  });
});

describe("GitHub's answers", () => {
  test("403 with x-ratelimit-remaining 0 is retried when the limit resets", async () => {
    const github = fakeGithub();
    const reset = String(START / 1000 + 120);
    github.answerFor("POST /repos/", { status: 403, headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset }, body: { message: "API rate limit exceeded for installation ID 42." } });
    expect(await new GithubApp(appSettings()).request(comment(), github.fetch)).toEqual({
      kind: "retry",
      retryAfterMs: 120_000,
      error: expect.stringMatching(/^HTTP 403 \(request FAKE:\d+\): API rate limit exceeded for installation ID 42\.$/),
    });
  });

  test.each([
    ["429 with retry-after", { status: 429, headers: { "retry-after": "30" } }, 30_000],
    ["429 without retry-after (a minute, as GitHub asks)", { status: 429 }, 60_000],
    ["403 with retry-after (a secondary rate limit)", { status: 403, headers: { "retry-after": "5" } }, 5_000],
  ])("%s is retried after the wait", async (_what, answer, wait) => {
    const github = fakeGithub();
    github.answerFor("POST /repos/", { body: { message: "You have exceeded a secondary rate limit." }, ...answer });
    expect(await new GithubApp(appSettings()).request(comment(), github.fetch)).toMatchObject({ kind: "retry", retryAfterMs: wait });
  });

  test("a 5xx is retried, and may have been acted on for a POST but not for a GET", async () => {
    const github = fakeGithub();
    const app = new GithubApp(appSettings());
    github.answerFor("POST /repos/", { status: 502 });
    github.answerFor("GET /app/", { status: 503 });
    expect(await app.request(comment(), github.fetch)).toMatchObject({ kind: "retry", uncertain: true, error: expect.stringMatching(/^HTTP 502/) });
    expect(await app.request({ method: "GET", path: "/app/hook/deliveries", auth: "app" }, github.fetch)).toEqual({
      kind: "retry",
      error: expect.stringMatching(/^HTTP 503/),
    });
  });

  test.each([
    ["403 without a rate limit", 403, "Resource not accessible by integration"],
    ["404", 404, "Not Found"],
    ["422", 422, "Validation Failed"],
  ])("%s fails for good with its status", async (_what, status, message) => {
    const github = fakeGithub();
    github.answerFor("POST /repos/", { status, body: { message } });
    expect(await new GithubApp(appSettings()).request(comment(), github.fetch)).toEqual({
      kind: "failed",
      status,
      error: expect.stringMatching(new RegExp(`^HTTP ${status} \\(request FAKE:\\d+\\): ${message}$`)),
    });
  });

  test("GitHub's own validation: a comment over 65,536 characters is a 422", async () => {
    const github = fakeGithub();
    expect(await new GithubApp(appSettings()).request(comment("x".repeat(65_537)), github.fetch)).toMatchObject({ kind: "failed", status: 422 });
  });

  test("a request GitHub never answers is given up after the timeout, as one that may have been acted on", async () => {
    const github = fakeGithub();
    github.answerFor("POST /repos/", "hang");
    const answer = new GithubApp(appSettings(), { timeoutMs: 10_000 }).request(comment(), github.fetch);
    expect(await settled(answer)).toEqual({ kind: "retry", uncertain: true, error: "GitHub did not answer within 10000 ms." });
  });

  test("a network error is retried", async () => {
    const github = fakeGithub();
    github.answerFor("POST /app/", "network");
    expect(await new GithubApp(appSettings()).request(comment(), github.fetch)).toEqual({
      kind: "retry",
      error: "Buying a token for installation 42: GitHub is unreachable: fetch failed: getaddrinfo ENOTFOUND api.github.test",
    });
  });

  test("no answer keeps the key, the JWT or the token, nor 8 characters of one, even when GitHub echoes the request", async () => {
    const github = fakeGithub();
    const app = new GithubApp(appSettings());
    await app.request(comment(), github.fetch);
    github.answerFor(
      "POST /repos/",
      { status: 400, echo: true },
      { status: 500, echo: true },
      { status: 422, body: { message: `key ${derOf(APP_KEY.pkcs8).slice(100, 300)}` } },
    );
    const answers = [await app.request(comment("token?"), github.fetch), await app.request(comment("token?"), github.fetch), await app.request(comment(), github.fetch)];
    const token = github.issuedTokens[0];
    const kept = JSON.stringify(answers);
    expect(kept).toContain("Problems parsing");
    expect(kept).toContain("[GITHUB_INSTALLATION_TOKEN_42]");
    expect(kept).toContain("[GITHUB_APP_PRIVATE_KEY]");
    expectNoPieceOf(kept, [token, derOf(APP_KEY.pkcs8)]);
  });
});
