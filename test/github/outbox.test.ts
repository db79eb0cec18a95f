import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import type { FakeGitHub } from "../../fakes/github";
import { snapshotTables } from "../helpers/assertions";
import { newBackend, type Backend } from "../helpers/backend";
import { asService } from "../helpers/callers";
import { OUTBOX_ITERATIONS, runDue, settle, withFakeClock } from "../helpers/clock";
import { APP_KEY, configureGithubApp } from "../helpers/github/app";
import { ASK, commentOf } from "../helpers/github/comments";
import type { Payload } from "../helpers/github/examples";
import { deliveryRow } from "../helpers/inbox/deliveries";
import { FIRST_PAGE, messagesOf, newSession, newWorkOrder } from "../helpers/records";
import { EVENTS_SECRET, messageCreated, postEvent } from "../helpers/senders/events";
import { postGithub } from "../helpers/senders/github";

/*
 * The App on GitHub (docs/contract.md#github-both-ways-the-app-comments-in-replies-and-check-runs-out):
 * what a fake GitHub receives and holds when comments are heard and
 * assistants reply in sessions bound to GitHub threads, through the outbox's
 * GitHub destination.
 */

let github: FakeGitHub;
// Deliveries, the outbox's runners and their retries: more scheduled runs than convex-test's default allows.
const INSTALLATION = 1; // the examples' `installation.id`

withFakeClock({ now: new Date("2026-01-05T10:00:00Z") });
beforeEach(() => {
  github = configureGithubApp();
  vi.stubEnv("EVENTS_WEBHOOK_SECRET", EVENTS_SECRET);
});
afterEach(() => {
  expect(github.violations).toEqual([]);
});

async function post(t: Backend, event: string, payload: Payload, delivery: { hookId?: string; guid?: string } = {}) {
  const response = await postGithub(t, { event, payload, ...delivery });
  await settle(t, OUTBOX_ITERATIONS);
  return response;
}

/** Codertocat asks on issue #1 through the App (the example with `installation`): the session it starts. */
async function askedOnIssue(t: Backend) {
  await post(t, "issue_comment", commentOf("issue_comment", "created", ASK, { viaApp: true }));
  const { page } = await asService(t).query(api.chatSessions.list, { userId: "github:Codertocat", paginationOpts: FIRST_PAGE });
  expect(page).toHaveLength(1);
  return page[0]._id;
}

async function reply(t: Backend, sessionId: Id<"chat_sessions">, content: string) {
  const messageId = await asService(t).mutation(api.chatMessages.append, { sessionId, role: "assistant", content });
  await settle(t, OUTBOX_ITERATIONS);
  return messageId;
}

async function githubRows(t: Backend) {
  return (await t.run(async (ctx) => await ctx.db.query("outbox").collect())).filter((row) => row.destination === "github");
}

const commentPosts = () => github.callsTo("POST", /^\/repos\/codertocat\/hello-world\/issues\/1\/comments$/);

describe("the eyes reaction", () => {
  test.each([
    ["issue_comment", { subject: "issue_comment", subjectId: 492700400 }],
    ["pull_request_review_comment", { subject: "review_comment", subjectId: 284312630 }],
    ["issues", { subject: "issue", subjectId: 1 }],
  ] as const)("a %s heard through the App gets one eyes reaction, as its installation", async (event, reaction) => {
    const t = newBackend();
    const payload = commentOf(event, undefined, ASK, { viaApp: true });
    // GitHub's issues examples came through repository hooks: this one comes through the App.
    payload.installation ??= { id: INSTALLATION };
    await post(t, event, payload);
    expect(github.reactions).toEqual([{ id: expect.any(Number), repository: "codertocat/hello-world", content: "eyes", ...reaction }]);
    expect(github.calls.map((call) => [call.method, call.path, call.auth])).toEqual([
      ["POST", `/app/installations/${INSTALLATION}/access_tokens`, "app"],
      ["POST", expect.stringMatching(/\/reactions$/), { installationId: INSTALLATION }],
    ]);
  });

  test("a review gets none (GitHub has no reactions on reviews); its message is appended all the same", async () => {
    const t = newBackend();
    await post(t, "pull_request_review", commentOf("pull_request_review", "submitted", ASK, { viaApp: true }));
    expect(github.calls).toEqual([]);
    expect(await githubRows(t)).toEqual([]);
  });

  test("once, whatever redeliveries (another hook) and replays do", async () => {
    const t = newBackend();
    const payload = commentOf("issue_comment", "created", ASK, { viaApp: true });
    const first = await post(t, "issue_comment", payload, { hookId: "111", guid: "c1" });
    await post(t, "issue_comment", payload, { hookId: "222", guid: "c1" });
    await post(t, "issue_comment", payload, { hookId: "111", guid: "c2" });
    await t.mutation(internal.ingest.replay, { deliveryId: first.body.delivery as Id<"webhook_deliveries"> });
    await settle(t, OUTBOX_ITERATIONS);
    expect(github.reactions).toHaveLength(1);
    expect(github.callsTo("POST", /reactions$/)).toHaveLength(1);
    expect(await githubRows(t)).toMatchObject([{ status: "sent", request: { kind: "reaction" } }]);
  });

  test("a comment from a repository no App delivery has named an installation for: appended, and the missing reaction noted", async () => {
    const t = newBackend();
    const response = await post(t, "issue_comment", commentOf("issue_comment"));
    expect(await deliveryRow(t, response.body.delivery)).toMatchObject({
      status: "processed",
      skipped: ["No eyes reaction on codertocat/hello-world#1: no delivery from the App has named its installation yet."],
    });
    expect(github.calls).toEqual([]);
  });

  test("the installation of a repository is the one its latest delivery named", async () => {
    const t = newBackend();
    // A repository hook's comment names no installation; a pull request's delivery through the App does.
    await post(t, "pull_request", { ...pullRequestOf(), installation: { id: 77 } });
    await post(t, "issue_comment", commentOf("issue_comment"));
    expect(github.calls.map((call) => call.path)).toEqual(["/app/installations/77/access_tokens", "/repos/codertocat/hello-world/issues/comments/492700400/reactions"]);
  });
});

/** A pull request opened on Codertocat/Hello-World (GitHub's example shape, reduced). */
function pullRequestOf(): Payload {
  return {
    action: "opened",
    repository: { full_name: "Codertocat/Hello-World" },
    pull_request: { html_url: "https://github.com/Codertocat/Hello-World/pull/2", body: "", head: { ref: "changes", repo: { full_name: "Codertocat/Hello-World" } } },
  };
}

describe("replies", () => {
  test.each(["pkcs1", "pkcs8"] as const)("an assistant's message is posted once as a comment on the thread (%s key); user messages are not", async (key) => {
    github = configureGithubApp({ key });
    const t = newBackend();
    const sessionId = await askedOnIssue(t);
    const messageId = await reply(t, sessionId, "Fixed the spelling in #2.");
    await asService(t).mutation(api.chatMessages.append, { sessionId, role: "user", content: "thanks" });
    await settle(t, OUTBOX_ITERATIONS);
    expect(github.comments).toEqual([expect.objectContaining({ repository: "codertocat/hello-world", number: 1, user: { login: "jangar[bot]", type: "Bot" } })]);
    expect(github.comments[0].body).toMatch(/^Fixed the spelling in #2\.\n\n<!-- jangar:[a-z0-9_]+ -->$/);
    const origins = await t.run(async (ctx) => await ctx.db.query("chat_message_origins").collect());
    expect(origins).toContainEqual(expect.objectContaining({ externalId: `github:comment:${github.comments[0].id}`, messageId, outbound: true }));
  });

  test("by any path: a chat.message.created event's assistant message is posted; its redelivery and replay post nothing more", async () => {
    const t = newBackend();
    const sessionId = await askedOnIssue(t);
    const event = { id: "msg_2Lc8Y0NOM0yGtMN0yk4VbG4gRZf", event: messageCreated(sessionId, { role: "assistant", content: "On it." }) };
    const first = await postEvent(t, event);
    await postEvent(t, event);
    await settle(t, OUTBOX_ITERATIONS);
    await t.mutation(internal.ingest.replay, { deliveryId: first.body.delivery as Id<"webhook_deliveries"> });
    await settle(t, OUTBOX_ITERATIONS);
    expect(github.comments.map((comment) => comment.body.split("\n")[0])).toEqual(["On it."]);
  });

  test("a long reply is cut at line breaks into comments of at most 60,000 characters, posted in order", async () => {
    const t = newBackend();
    const sessionId = await askedOnIssue(t);
    const first = `${"a".repeat(59_000)}\n`;
    const second = `${"b".repeat(30_000)}\nend`;
    await reply(t, sessionId, first + second);
    expect(github.comments.map((comment) => comment.body.replace(/\n\n<!-- jangar:[a-z0-9_]+ -->$/, ""))).toEqual([first, second]);
  });

  test("the App's own comment coming back as a webhook is not appended", async () => {
    const t = newBackend();
    const sessionId = await askedOnIssue(t);
    await reply(t, sessionId, "Done: @jangar fixed it.");
    const echo = commentOf("issue_comment", "created", github.comments[0].body, { viaApp: true });
    echo.comment.id = github.comments[0].id;
    echo.comment.user = { ...echo.comment.user, login: "jangar[bot]", type: "Bot" };
    const response = await post(t, "issue_comment", echo);
    expect(await deliveryRow(t, response.body.delivery)).toMatchObject({ status: "ignored", ignoredReason: "The comment comes from a bot (jangar[bot])." });
    expect((await messagesOf(t, sessionId)).map((message) => message.role)).toEqual(["user", "assistant"]);
  });

  test("a session bound to an issue by its order's link: the reply goes to the issue", async () => {
    const t = newBackend();
    const alice = await newSession(t, "alice");
    const workOrderId = await newWorkOrder(t, alice);
    await asService(t).mutation(api.workOrderLinks.add, { workOrderId, kind: "github_issue", value: "https://github.com/codertocat/hello-world/issues/1" });
    await post(t, "issue_comment", commentOf("issue_comment", "created", ASK, { viaApp: true }));
    await reply(t, alice, "Looking.");
    expect(github.comments.map((comment) => [comment.repository, comment.number])).toEqual([["codertocat/hello-world", 1]]);
  });

  test("nothing is queued or posted without the App's id and key; comments are still read", async () => {
    vi.stubEnv("GITHUB_APP_PRIVATE_KEY", "");
    const t = newBackend();
    const sessionId = await askedOnIssue(t);
    await reply(t, sessionId, "Fixed.");
    expect(github.calls).toEqual([]);
    expect(await githubRows(t)).toEqual([]);
    expect(await messagesOf(t, sessionId)).toHaveLength(2);
  });
});

describe("delivery", () => {
  test("a comment whose answer was lost (posted, then 502) is looked for by its marker, found, and not posted again", async () => {
    const t = newBackend();
    const sessionId = await askedOnIssue(t);
    github.answerFor("POST /repos/codertocat/hello-world/issues/1/comments", { status: 502, posted: true });
    await reply(t, sessionId, "Posted once.");
    expect(github.comments).toHaveLength(1);
    const [row] = (await githubRows(t)).filter((each) => each.request.kind === "comment");
    // Comments since a minute before the row was queued: clocks differ a little.
    expect(github.callsTo("GET", /\/issues\/1\/comments$/)).toMatchObject([{ query: { per_page: "100", since: new Date(row.enqueuedAt - 60_000).toISOString() } }]);
    expect(commentPosts()).toHaveLength(1);
    expect(row).toMatchObject({ status: "sent", attempts: 2, result: String(github.comments[0].id) });
  });

  test("a 502 that did not post is looked for, not found, and posted", async () => {
    const t = newBackend();
    const sessionId = await askedOnIssue(t);
    github.answerFor("POST /repos/codertocat/hello-world/issues/1/comments", { status: 502 });
    await reply(t, sessionId, "Second try.");
    expect(github.comments.map((comment) => comment.body.split("\n")[0])).toEqual(["Second try."]);
  });

  test("403 with x-ratelimit-remaining 0 waits until the limit resets, then posts", async () => {
    const t = newBackend();
    const sessionId = await askedOnIssue(t);
    const reset = Math.floor(Date.now() / 1000) + 600;
    github.answerFor("POST /repos/codertocat/hello-world/issues/1/comments", {
      status: 403,
      headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) },
      body: { message: "API rate limit exceeded for installation ID 1." },
    });
    await asService(t).mutation(api.chatMessages.append, { sessionId, role: "assistant", content: "Rate limited." });
    await runDue(t, 0);
    await runDue(t, 0);
    const [row] = (await githubRows(t)).filter((each) => each.request.kind === "comment");
    expect(row).toMatchObject({ status: "queued", attempts: 1, error: expect.stringMatching(/^HTTP 403 .*API rate limit exceeded/) });
    expect(row.nextAttemptAt! - Date.now()).toBeGreaterThan(590_000);
    await settle(t, OUTBOX_ITERATIONS);
    expect(github.comments).toHaveLength(1);
  });

  test("a 4xx ends that row failed with its status, and blocks nothing else of the installation", async () => {
    const t = newBackend();
    const sessionId = await askedOnIssue(t);
    github.answerFor("POST /repos/codertocat/hello-world/issues/1/comments", { status: 404, body: { message: "Not Found" } });
    await reply(t, sessionId, "Lost.");
    await reply(t, sessionId, "Found.");
    const comments = (await githubRows(t)).filter((row) => row.request.kind === "comment");
    expect(comments.map((row) => [row.status, row.httpStatus, row.error?.replace(/FAKE:\d+/, "FAKE:n")])).toEqual([
      ["failed", 404, "HTTP 404 (request FAKE:n): Not Found"],
      ["sent", undefined, undefined],
    ]);
    expect(github.comments.map((comment) => comment.body.split("\n")[0])).toEqual(["Found."]);
  });

  test("one token serves the installation's requests", async () => {
    const t = newBackend();
    const sessionId = await askedOnIssue(t);
    await reply(t, sessionId, "One.");
    await reply(t, sessionId, "Two.");
    expect(github.tokensIssued.get(INSTALLATION)).toBe(1);
    expect(github.comments).toHaveLength(2);
  });
});

describe("secrets", () => {
  let logged: string[] = [];
  beforeEach(() => {
    logged = [];
    for (const method of ["log", "warn", "error", "info"] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        logged.push(args.map(String).join(" "));
      });
    }
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  test("no row and no log line holds the key, a JWT or a token, nor 8 characters of one, even when GitHub's answer echoes the request", async () => {
    vi.stubEnv("JANGAR_LOG_COST", "1");
    const t = newBackend();
    const sessionId = await askedOnIssue(t);
    github.answerFor("POST /repos/codertocat/hello-world/issues/1/comments", { status: 500, echo: true }, { status: 422, echo: true });
    await reply(t, sessionId, "Echoed.");
    const [row] = (await githubRows(t)).filter((each) => each.request.kind === "comment");
    expect(row).toMatchObject({ status: "failed", httpStatus: 422, error: expect.stringContaining("Problems parsing") });
    const jwt = /^Bearer (.+)$/.exec(github.calls[0].headers.authorization)?.[1] ?? "";
    const secrets = [...github.issuedTokens, jwt, APP_KEY.pkcs1.replace(/-----[A-Z ]+-----|\s/g, ""), APP_KEY.pkcs8.replace(/-----[A-Z ]+-----|\s/g, "")];
    const kept = JSON.stringify(await snapshotTables(t)) + logged.join("\n");
    expect(logged.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      for (let start = 0; start + 8 <= secret.length; start += 1) {
        expect(kept.includes(secret.slice(start, start + 8)), `a piece of a secret at ${start}`).toBe(false);
      }
    }
  });
});
