import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { internal } from "../../convex/_generated/api";
import type { FakeGitHub, FakeHookDelivery } from "../../fakes/github";
import { newBackend, type Backend } from "../helpers/backend";
import { withFakeClock } from "../helpers/clock";
import { configureGithubApp } from "../helpers/github/app";
import { BODY_PATHS, onBodyPath, stored } from "../helpers/inbox/deliveries";
import { postGithub } from "../helpers/senders/github";

/*
 * No GitHub delivery lost (docs/contract.md#github-both-ways-the-app-comments-in-replies-and-check-runs-out):
 * the sweep lists the App's hook deliveries on the fake GitHub API and asks
 * once for a redelivery of each one of the last 3 days that was not
 * answered 2xx and never reached the inbox.
 */

const NOW = new Date("2026-01-05T10:00:00Z").getTime();
const HOUR = 60 * 60_000;
let github: FakeGitHub;
let ids = 0;

withFakeClock({ now: NOW });
beforeEach(() => {
  github = configureGithubApp();
});
afterEach(() => {
  expect(github.violations).toEqual([]);
});

/** An attempt GitHub lists, `hoursAgo` before now, answered `statusCode`. */
function attempt(guid: string, statusCode: number, hoursAgo: number, redelivery = false): FakeHookDelivery {
  return {
    id: ++ids,
    guid,
    delivered_at: new Date(NOW - hoursAgo * HOUR).toISOString(),
    redelivery,
    status_code: statusCode,
    status: statusCode === 0 ? "Timed out" : `HTTP ${statusCode}`,
    event: "issue_comment",
    action: "created",
    installation_id: 1,
    repository_id: 1,
  };
}

/** GitHub's list holds them oldest first, as they happened. */
function listed(...attempts: FakeHookDelivery[]) {
  github.hookDeliveries.push(...[...attempts].sort((a, b) => Date.parse(a.delivered_at) - Date.parse(b.delivered_at)));
  return attempts;
}

const sweep = async (t: Backend) => await t.action(internal.inbox.githubRedeliveries.sweep, {});
const asked = () => github.redeliveries.map((id) => github.hookDeliveries.find((delivery) => delivery.id === id)?.guid);

describe("the redelivery sweep", () => {
  test("it redelivers only what failed and never arrived, within 3 days, and once", async () => {
    const t = newBackend();
    // Received: the inbox holds it, though GitHub saw no 2xx (the answer timed out).
    await postGithub(t, { event: "ping", payload: { zen: "Keep it logically awesome." }, guid: "guid-arrived" });
    listed(
      attempt("guid-lost", 503, 2),
      attempt("guid-timeout", 0, 30),
      attempt("guid-arrived", 0, 1),
      attempt("guid-answered", 200, 5),
      attempt("guid-retried", 500, 6),
      attempt("guid-retried", 202, 4, true),
      attempt("guid-too-old", 500, 73),
    );
    expect(await sweep(t)).toEqual({ listed: 7, redelivered: 2, refused: 0 });
    expect(asked().sort()).toEqual(["guid-lost", "guid-timeout"]);
    // The redeliveries fail again: they are not asked for twice.
    listed(attempt("guid-lost", 503, 0.5, true));
    expect(await sweep(t)).toEqual({ listed: 8, redelivered: 0, refused: 0 });
    expect(github.redeliveries).toHaveLength(2);
    const status = await t.query(internal.ingest.inboxStatus, {});
    expect(status.githubRedeliveries).toEqual({ redelivered: 2, refused: 0 });
  });

  test("it reads every page of the last 3 days, by cursor, as the App", async () => {
    const t = newBackend();
    listed(attempt("guid-page-2", 500, 40), ...Array.from({ length: 120 }, (_, i) => attempt(`guid-ok-${i}`, 200, 1)));
    expect(await sweep(t)).toMatchObject({ listed: 121, redelivered: 1 });
    expect(asked()).toEqual(["guid-page-2"]);
    const lists = github.callsTo("GET", /^\/app\/hook\/deliveries/);
    expect(lists.map((call) => call.query)).toEqual([{ per_page: "100" }, { per_page: "100", cursor: "100" }, { per_page: "100", status: "failure" }]);
    expect(github.calls.every((call) => call.auth === "app")).toBe(true);
  });

  test("a failure older than the newest attempts it reads (1,500 answered 2xx since) is still redelivered: failures are listed alone", async () => {
    const t = newBackend();
    listed(attempt("guid-old-timeout", 0, 50), attempt("guid-lost-early", 502, 48), ...Array.from({ length: 1_500 }, (_, i) => attempt(`guid-ok-${i}`, 200, 1)));
    expect(await sweep(t)).toEqual({ listed: 1_001, redelivered: 1, refused: 0 });
    expect(asked()).toEqual(["guid-lost-early"]);
    const lists = github.callsTo("GET", /^\/app\/hook\/deliveries/).map((call) => call.query);
    expect(lists.filter((query) => query.status === undefined)).toHaveLength(10);
    expect(lists.filter((query) => query.status !== undefined)).toEqual([{ per_page: "100", status: "failure" }]);
    // Recorded with no status code, and older than the newest 1,000 attempts: not found (docs/operations.md#github-deliveries-redelivered).
    expect(await sweep(t)).toMatchObject({ redelivered: 0 });
  });

  test("failures are read back by cursor to the 3 days, and no further", async () => {
    const t = newBackend();
    listed(
      attempt("guid-too-old", 500, 73),
      ...Array.from({ length: 150 }, (_, i) => attempt(`guid-failed-${i}`, 500, 70)),
      ...Array.from({ length: 1_000 }, (_, i) => attempt(`guid-ok-${i}`, 200, 1)),
    );
    // 100 asks a sweep: the next one asks the rest.
    expect(await sweep(t)).toMatchObject({ redelivered: 100 });
    expect(await sweep(t)).toMatchObject({ redelivered: 50 });
    expect(new Set(asked())).toEqual(new Set(Array.from({ length: 150 }, (_, i) => `guid-failed-${i}`)));
    const failurePages = github.callsTo("GET", /^\/app\/hook\/deliveries/).filter((call) => call.query.status === "failure");
    expect(failurePages.map((call) => call.query.cursor)).toEqual([undefined, "100", undefined, "100"]);
  });

  test("a redelivery GitHub refuses is recorded, and not asked again", async () => {
    const t = newBackend();
    listed(attempt("guid-gone", 500, 2));
    github.answerFor("POST /app/hook/deliveries/", { status: 422, body: { message: "Validation Failed" } });
    expect(await sweep(t)).toEqual({ listed: 1, redelivered: 0, refused: 1 });
    expect(await sweep(t)).toEqual({ listed: 1, redelivered: 0, refused: 0 });
    expect(github.callsTo("POST", /attempts$/)).toHaveLength(1);
    expect((await t.query(internal.ingest.inboxStatus, {})).githubRedeliveries).toEqual({ redelivered: 0, refused: 1 });
  });

  test("a rate limit stops the sweep; the next one goes on", async () => {
    const t = newBackend();
    listed(attempt("guid-1", 500, 3), attempt("guid-2", 500, 2));
    const reset = String(Math.floor(NOW / 1000) + 600);
    github.answerFor("POST /app/hook/deliveries/", {
      status: 403,
      headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset },
      body: { message: "API rate limit exceeded" },
    });
    const first = await sweep(t);
    expect(first).toMatchObject({ redelivered: 0, refused: 0, stopped: expect.stringMatching(/^Asking for a redelivery: HTTP 403/) });
    expect(github.callsTo("POST", /attempts$/)).toHaveLength(1);
    expect(await sweep(t)).toEqual({ listed: 2, redelivered: 2, refused: 0 });
    expect(asked().sort()).toEqual(["guid-1", "guid-2"]);
  });

  test("a rate limit on the listing asks nothing", async () => {
    const t = newBackend();
    listed(attempt("guid-1", 500, 3));
    github.answerFor("GET /app/hook/deliveries", { status: 429, headers: { "retry-after": "60" }, body: { message: "slow down" } });
    expect(await sweep(t)).toMatchObject({ redelivered: 0, stopped: expect.stringMatching(/^Listing the App's deliveries: HTTP 429/) });
    expect(github.redeliveries).toEqual([]);
  });

  test.each([
    ["neither the App's id nor its key", ["GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY"], /not set/],
    ["only the App's id", ["GITHUB_APP_PRIVATE_KEY"], /GITHUB_APP_PRIVATE_KEY is unset/],
  ])("with %s it asks GitHub nothing", async (_name, unset, why) => {
    for (const name of unset) vi.stubEnv(name, "");
    const t = newBackend();
    listed(attempt("guid-1", 500, 3));
    expect(await sweep(t)).toMatchObject({ listed: 0, redelivered: 0, stopped: expect.stringMatching(why) });
    expect(github.calls).toEqual([]);
  });

  test("its records are forgotten after 3 days, when GitHub lists the delivery no more", async () => {
    const t = newBackend();
    listed(attempt("guid-1", 500, 3));
    await sweep(t);
    vi.setSystemTime(NOW + 73 * HOUR);
    await sweep(t);
    expect(await t.run(async (ctx) => await ctx.db.query("github_redeliveries").collect())).toEqual([]);
  });
});

describe.each(BODY_PATHS)("the sweep and the inbox's road ($road)", (road) => {
  onBodyPath(road);

  test("a delivery that reached the inbox is not asked for, whatever GitHub saw; one that did not is", async () => {
    const t = newBackend();
    await postGithub(t, { event: "ping", payload: { zen: "Keep it logically awesome." }, guid: "guid-arrived" });
    const [row] = (await stored(t)).deliveries;
    expect(row.inline === true).toBe(road.inlineBodyBytes === undefined);
    listed(attempt("guid-arrived", 0, 1), attempt("guid-lost", 502, 1));
    expect(await sweep(t)).toEqual({ listed: 2, redelivered: 1, refused: 0 });
    expect(asked()).toEqual(["guid-lost"]);
  });
});
