// @vitest-environment node
import { afterEach, expect, test } from "vitest";
import { GithubApp } from "../../src/github/app";
import { appSettings, fakeGithub, TEST_APP_ID } from "../helpers/github/app";

/* The fake GitHub API over loopback HTTP (`serve`), as scripts and the demo use it. */

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

test("served on loopback, the fake answers the App as it answers its fetch: a token, then the comment", async () => {
  const github = fakeGithub();
  const served = await github.serve(0);
  close = served.close;
  const app = new GithubApp(appSettings({ GITHUB_API_URL: served.url }));
  const answer = await app.request({ method: "POST", path: "/repos/acme/api/issues/7/comments", body: { body: "Done." }, auth: { installationId: 42 } });
  expect(answer).toMatchObject({ kind: "ok", status: 201, body: { body: "Done.", user: { login: "jangar[bot]", type: "Bot" } } });
  expect(github.calls.map((call) => `${call.method} ${call.path} ${String(call.status)}`)).toEqual([
    "POST /app/installations/42/access_tokens 201",
    "POST /repos/acme/api/issues/7/comments 201",
  ]);
});

test("reactions: the first is created (201), the same again answers the one there (200)", async () => {
  const github = fakeGithub();
  const app = new GithubApp(appSettings());
  const react = (path: `/${string}`) => app.request({ method: "POST", path, body: { content: "eyes" }, auth: { installationId: 42 } }, github.fetch);
  expect(await react("/repos/acme/api/issues/comments/5/reactions")).toMatchObject({ kind: "ok", status: 201 });
  expect(await react("/repos/acme/api/issues/comments/5/reactions")).toMatchObject({ kind: "ok", status: 200 });
  expect(await react("/repos/acme/api/pulls/comments/5/reactions")).toMatchObject({ kind: "ok", status: 201 });
  expect(github.reactions.map((reaction) => `${reaction.subject} ${reaction.subjectId} ${reaction.content}`)).toEqual(["issue_comment 5 eyes", "review_comment 5 eyes"]);
  expect(await app.request({ method: "POST", path: "/repos/acme/api/issues/7/reactions", body: { content: "party" }, auth: { installationId: 42 } }, github.fetch)).toMatchObject({
    kind: "failed",
    status: 422,
  });
});

test("check runs are created and updated in place; comments are listed since a time", async () => {
  const github = fakeGithub();
  const app = new GithubApp(appSettings());
  const as = { installationId: 42 };
  const created = await app.request({ method: "POST", path: "/repos/acme/api/check-runs", body: { name: "Jangar: SSO", head_sha: "a".repeat(40), external_id: "k1" }, auth: as }, github.fetch);
  expect(created).toMatchObject({ kind: "ok", status: 201, body: { status: "queued", external_id: "k1" } });
  const id = (created as { body: { id: number } }).body.id;
  await app.request({ method: "PATCH", path: `/repos/acme/api/check-runs/${id}`, body: { status: "completed", conclusion: "success" }, auth: as }, github.fetch);
  expect(github.checkRuns).toMatchObject([{ id, status: "completed", conclusion: "success", name: "Jangar: SSO" }]);
  expect(await app.request({ method: "POST", path: "/repos/acme/api/check-runs", body: { name: "x", head_sha: "main" }, auth: as }, github.fetch)).toMatchObject({ kind: "failed", status: 422 });

  await app.request({ method: "POST", path: "/repos/acme/api/issues/7/comments", body: { body: "one" }, auth: as }, github.fetch);
  const listed = await app.request({ method: "GET", path: "/repos/acme/api/issues/7/comments?since=2000-01-01T00:00:00Z&per_page=100", auth: as }, github.fetch);
  expect(listed).toMatchObject({ kind: "ok", body: [{ body: "one" }] });
});

test("a commit's check runs are listed as its installation, filtered as GitHub filters them; what GitHub refuses is a violation", async () => {
  const github = fakeGithub({ installations: { 42: ["acme/api"], 7: ["acme/web"] } });
  const app = new GithubApp(appSettings());
  const as = { installationId: 42 };
  const head = "a".repeat(40);
  const make = (name: string, externalId: string, sha = head) =>
    app.request({ method: "POST", path: "/repos/acme/api/check-runs", body: { name, head_sha: sha, external_id: externalId }, auth: as }, github.fetch);
  await make("Jangar: SSO", "k1");
  await make("Jangar: SSO", "k2");
  await make("Jangar: docs", "k3");
  await make("Jangar: SSO", "k4", "b".repeat(40));
  const list = async (query: string, auth: { installationId: number } | "app" = as) => {
    const answer = await app.request({ method: "GET", path: `/repos/acme/api/commits/${head}/check-runs${query}`, auth }, github.fetch);
    return answer.kind === "ok" ? (answer.body as { total_count: number; check_runs: { external_id: string; app: { id: number } }[] }) : answer;
  };
  // `latest` (GitHub's default): the newest of each name, newest first; `all`: every one on the commit.
  expect(await list("")).toMatchObject({ total_count: 2, check_runs: [{ external_id: "k3" }, { external_id: "k2", app: { id: TEST_APP_ID } }] });
  expect(await list(`?app_id=${TEST_APP_ID}&filter=all&per_page=100`)).toMatchObject({ total_count: 3, check_runs: [{ external_id: "k3" }, { external_id: "k2" }, { external_id: "k1" }] });
  expect(await list("?filter=all&check_name=Jangar%3A%20SSO&status=queued&per_page=1&page=2")).toMatchObject({ total_count: 2, check_runs: [{ external_id: "k1" }] });
  expect(await list("?app_id=1&filter=all")).toEqual({ total_count: 0, check_runs: [] });
  expect(github.violations).toEqual([]);

  expect(await list("?filter=some")).toMatchObject({ kind: "failed", status: 422 });
  expect(await list("?status=done")).toMatchObject({ kind: "failed", status: 422 });
  expect(await list("", "app")).toMatchObject({ kind: "failed", status: 401 });
  expect(await list("", { installationId: 7 })).toMatchObject({ kind: "failed", status: 404 });
  expect(await app.request({ method: "GET", path: "/repos/acme/api/commits/main/check-runs", auth: as }, github.fetch)).toMatchObject({ kind: "failed", status: 422 });
  expect(github.violations).toEqual([
    `GET /repos/acme/api/commits/${head}/check-runs: filter is not included in the list`,
    `GET /repos/acme/api/commits/${head}/check-runs: status is not included in the list`,
    `GET /repos/acme/api/commits/${head}/check-runs: no installation token`,
    `GET /repos/acme/api/commits/${head}/check-runs: installation 7 does not reach acme/api`,
    "GET /repos/acme/api/commits/main/check-runs: no commit main",
  ]);
});

test("the App's hook deliveries are listed newest first, a page at a time, and redelivered as the App only", async () => {
  const github = fakeGithub();
  for (let id = 1; id <= 3; id += 1) {
    github.hookDeliveries.push({ id, guid: `g-${id}`, delivered_at: "2026-01-05T10:00:00Z", redelivery: false, status_code: 502, status: "Bad Gateway", event: "issue_comment", action: "created", installation_id: 42, repository_id: 1 });
  }
  const app = new GithubApp(appSettings());
  const page = await app.request({ method: "GET", path: "/app/hook/deliveries?per_page=2", auth: "app" }, github.fetch);
  expect(page).toMatchObject({ kind: "ok", body: [{ id: 3 }, { id: 2 }], link: `<${github.baseUrl}/app/hook/deliveries?per_page=2&cursor=2>; rel="next"` });
  const next = await app.request({ method: "GET", path: "/app/hook/deliveries?per_page=2&cursor=2", auth: "app" }, github.fetch);
  expect(next).toEqual({ kind: "ok", status: 200, body: [expect.objectContaining({ id: 1 })] });
  expect(await app.request({ method: "POST", path: "/app/hook/deliveries/2/attempts", auth: "app" }, github.fetch)).toMatchObject({ kind: "ok", status: 202 });
  expect(await app.request({ method: "POST", path: "/app/hook/deliveries/9/attempts", auth: "app" }, github.fetch)).toMatchObject({ kind: "failed", status: 404 });
  expect(await app.request({ method: "POST", path: "/app/hook/deliveries/1/attempts", auth: { installationId: 42 } }, github.fetch)).toMatchObject({ kind: "failed", status: 401 });
  expect(github.redeliveries).toEqual([2]);
});

test("the fake answers only its own URL, and records any other as a violation", async () => {
  const github = fakeGithub();
  expect((await github.fetch("https://api.github.com/app")).status).toBe(400);
  expect(github.violations).toEqual(["unexpected URL https://api.github.com/app"]);
});
