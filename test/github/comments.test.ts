import { beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { mentionsApp } from "../../src/sources/github/comments";
import { domainTables } from "../helpers/assertions";
import { newBackend, type Backend } from "../helpers/backend";
import { asService } from "../helpers/callers";
import { settle, withFakeClock } from "../helpers/clock";
import { deliveryRow } from "../helpers/inbox";
import { FIRST_PAGE, messagesOf, newSession, newWorkOrder } from "../helpers/records";
import { ASK, commentOf, examplesOf, KINDS, type Kind, type Payload } from "../helpers/githubComments";
import { postGithub } from "../helpers/senders/github";

/*
 * Comments in (docs/contract.md#github-both-ways-the-app-comments-in-replies-and-check-runs-out):
 * GitHub's own example payloads, each with a mention of the App written in.
 */

withFakeClock();
beforeEach(() => {
  vi.stubEnv("GITHUB_APP_SLUG", "jangar");
});

const ISSUE_1 = "https://github.com/codertocat/hello-world/issues/1";
const PR_2 = "https://github.com/codertocat/hello-world/pull/2";

async function post(t: Backend, event: string, payload: Payload, delivery: { hookId?: string; guid?: string } = {}) {
  const response = await postGithub(t, { event, payload, ...delivery });
  await settle(t);
  return response;
}

async function sessionsOf(t: Backend, userId: string) {
  return (await asService(t).query(api.chatSessions.list, { userId, paginationOpts: FIRST_PAGE })).page;
}

async function threads(t: Backend) {
  return (await t.run(async (ctx) => await ctx.db.query("github_threads").collect())).map(({ repository, number, sessionId }) => ({ repository, number, sessionId }));
}

describe("a comment that mentions the App", () => {
  const cases = (Object.keys(KINDS) as Kind[]).flatMap((event) =>
    KINDS[event].actions.flatMap((action) => examplesOf(event, action).map((payload, index) => [`${event} ${action} #${index}`, event, index, payload] as const)),
  );

  test.each(cases)("%s (GitHub's example): starts a session for its author, binds the thread and appends the message", async (_label, event, _index, payload) => {
    const t = newBackend();
    const kind = KINDS[event];
    kind.text(payload).body = ASK;
    const response = await post(t, event, payload);
    expect(response.body.status).toBe("accepted");
    expect((await deliveryRow(t, response.body.delivery)).status).toBe("processed");

    const author = kind.text(payload);
    const on = kind.on(payload);
    const [session] = await sessionsOf(t, `github:${author.user.login}`);
    expect(session).toMatchObject({ title: on.title.slice(0, 80) });
    expect(await threads(t)).toEqual([{ repository: "codertocat/hello-world", number: on.number, sessionId: session._id }]);
    expect(await messagesOf(t, session._id)).toMatchObject([
      {
        role: "user",
        content: ASK,
        metadata: { source: "github", repository: "Codertocat/Hello-World", number: on.number, commentId: author.id, url: author.html_url, author: author.user.login },
      },
    ]);
    const origins = await t.run(async (ctx) => await ctx.db.query("chat_message_origins").collect());
    expect(origins.map((origin) => origin.externalId)).toEqual([`github:${kind.id}:${author.id}`]);
  });

  test("a second mention on the thread goes to the same session; another thread gets its own", async () => {
    const t = newBackend();
    await post(t, "issue_comment", commentOf("issue_comment"));
    const again = commentOf("issue_comment", "created", "@jangar and the CONTRIBUTING file too.");
    again.comment.id += 1;
    await post(t, "issue_comment", again);
    await post(t, "pull_request_review_comment", commentOf("pull_request_review_comment"));

    const sessions = await sessionsOf(t, "github:Codertocat");
    expect(sessions.map((session) => session.title).sort()).toEqual(["Spelling error in the README file", "Update the README with new information."]);
    const onIssue = sessions.find((session) => session.title.startsWith("Spelling"))!;
    expect((await messagesOf(t, onIssue._id)).map((message) => message.content)).toEqual([ASK, "@jangar and the CONTRIBUTING file too."]);
    expect(await threads(t)).toHaveLength(2);
  });

  test("a long title is cut to 80 characters", async () => {
    const t = newBackend();
    const payload = commentOf("issue_comment");
    payload.issue.title = `Rewrite ${"the whole login flow ".repeat(10)}`;
    await post(t, "issue_comment", payload);
    const [session] = await sessionsOf(t, "github:Codertocat");
    expect(session.title).toHaveLength(80);
    expect(session.title.endsWith("…")).toBe(true);
  });
});

describe("binding a thread to an order's session", () => {
  test("a comment on a pull request linked to an order goes to that order's session, and binds the thread there", async () => {
    const t = newBackend();
    const alice = await newSession(t, "alice");
    const workOrderId = await newWorkOrder(t, alice);
    await asService(t).mutation(api.workOrderLinks.add, { workOrderId, kind: "pr", value: PR_2 });

    await post(t, "pull_request_review_comment", commentOf("pull_request_review_comment"));
    await post(t, "pull_request_review", commentOf("pull_request_review"));

    expect(await sessionsOf(t, "github:Codertocat")).toEqual([]);
    expect((await messagesOf(t, alice)).map((message) => message.metadata.commentId)).toEqual([284312630, 237895671]);
    expect(await threads(t)).toEqual([{ repository: "codertocat/hello-world", number: 2, sessionId: alice }]);
  });

  test("of several orders linked to the issue, the most recently created one's session, finished or not", async () => {
    const t = newBackend();
    const older = await newSession(t, "alice");
    const newer = await newSession(t, "bob");
    const live = await newWorkOrder(t, older);
    vi.advanceTimersByTime(1000);
    const finished = await newWorkOrder(t, newer);
    for (const workOrderId of [live, finished]) {
      await asService(t).mutation(api.workOrderLinks.add, { workOrderId, kind: "github_issue", value: ISSUE_1 });
    }
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId: finished, status: "canceled" });

    await post(t, "issue_comment", commentOf("issue_comment"));
    expect(await messagesOf(t, older)).toEqual([]);
    expect(await messagesOf(t, newer)).toHaveLength(1);
  });

  test("a bound thread keeps its session when an order is linked to it later", async () => {
    const t = newBackend();
    await post(t, "issue_comment", commentOf("issue_comment"));
    const [started] = await sessionsOf(t, "github:Codertocat");
    const alice = await newSession(t, "alice");
    const workOrderId = await newWorkOrder(t, alice);
    await asService(t).mutation(api.workOrderLinks.add, { workOrderId, kind: "github_issue", value: ISSUE_1 });

    const again = commentOf("issue_comment", "created", "@jangar any news?");
    again.comment.id += 1;
    await post(t, "issue_comment", again);
    expect((await messagesOf(t, started._id)).map((message) => message.content)).toEqual([ASK, "@jangar any news?"]);
    expect(await messagesOf(t, alice)).toEqual([]);
  });
});

describe("what is not a message for Jangar", () => {
  test.each([
    ["no mention", "Looks good to me.", "The comment does not mention @jangar."],
    ["another App's name", "@jangar-bot please look.", "The comment does not mention @jangar."],
    ["a team of an organization named so", "cc @jangar/reviewers", "The comment does not mention @jangar."],
    ["an email address", "Write to ops@jangar.dev.", "The comment does not mention @jangar."],
  ])("%s: ignored on receipt with its reason, nothing written", async (_what, text, reason) => {
    const t = newBackend();
    const before = await domainTables(t);
    const response = await post(t, "issue_comment", commentOf("issue_comment", "created", text));
    expect(response.body).toMatchObject({ status: "ignored" });
    expect(await deliveryRow(t, response.body.delivery)).toMatchObject({ status: "ignored", ignoredReason: reason });
    expect(await domainTables(t)).toEqual(before);
  });

  test.each(["CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR", "NONE"])("an author who is %s is not heard, by default", async (association) => {
    const t = newBackend();
    const payload = commentOf("issue_comment");
    payload.comment.author_association = association;
    const response = await post(t, "issue_comment", payload);
    expect(await deliveryRow(t, response.body.delivery)).toMatchObject({
      status: "ignored",
      ignoredReason: `The comment's author is ${association}; only OWNER, MEMBER, COLLABORATOR may ask Jangar (GITHUB_COMMENT_ASSOCIATIONS).`,
    });
    expect(await sessionsOf(t, "github:Codertocat")).toEqual([]);
  });

  test("GITHUB_COMMENT_ASSOCIATIONS replaces the list (any case, blanks dropped)", async () => {
    const t = newBackend();
    vi.stubEnv("GITHUB_COMMENT_ASSOCIATIONS", " contributor, ,MEMBER ");
    const contributor = commentOf("issue_comment");
    contributor.comment.author_association = "CONTRIBUTOR";
    await post(t, "issue_comment", contributor);
    expect(await sessionsOf(t, "github:Codertocat")).toHaveLength(1);
    const owner = commentOf("pull_request_review_comment");
    const response = await post(t, "pull_request_review_comment", owner);
    expect(await deliveryRow(t, response.body.delivery)).toMatchObject({ status: "ignored", ignoredReason: expect.stringMatching(/author is OWNER; only CONTRIBUTOR, MEMBER may/) });
  });

  test.each([
    ["a bot", { login: "dependabot[bot]", type: "Bot" }, "The comment comes from a bot (dependabot[bot])."],
    ["the App itself, as GitHub shows its comments", { login: "jangar[bot]", type: "Bot" }, "The comment comes from a bot (jangar[bot])."],
    ["the App's login without the Bot type", { login: "Jangar[bot]", type: "User" }, "The comment comes from a bot (Jangar[bot])."],
  ])("%s: ignored, even when it mentions the App", async (_who, user, reason) => {
    const t = newBackend();
    const payload = commentOf("issue_comment", "created", "Done: @jangar replied.");
    payload.comment.user = { ...payload.comment.user, ...user };
    const response = await post(t, "issue_comment", payload);
    expect(await deliveryRow(t, response.body.delivery)).toMatchObject({ status: "ignored", ignoredReason: reason });
  });

  test("without GITHUB_APP_SLUG, comments are not read", async () => {
    vi.stubEnv("GITHUB_APP_SLUG", "");
    const t = newBackend();
    const response = await post(t, "issue_comment", commentOf("issue_comment"));
    expect(await deliveryRow(t, response.body.delivery)).toMatchObject({ status: "ignored", ignoredReason: "GITHUB_APP_SLUG is unset: comments are not read." });
  });

  test("GITHUB_APP_SLUG may be written as GitHub shows it: @Jangar, jangar[bot]", async () => {
    for (const slug of ["@Jangar", "jangar[bot]"]) {
      expect(mentionsApp("Hey @JANGAR, look.", { GITHUB_APP_SLUG: slug })).toBe(true);
    }
    expect(mentionsApp("@jangar", { GITHUB_APP_SLUG: "jan gar" })).toBe(false);
  });

  test.each([
    ["@jangar fix it", true],
    ["Please, @Jangar.", true],
    ["(@jangar)", true],
    ["@jangar[bot] fix it", true],
    ["line one\n@jangar: line two", true],
    ["@jangarx", false],
    ["@jangar_x", false],
    ["x@jangar", false],
    ["@@jangar", false],
    ["jangar", false],
  ])("mentions in %j: %s", (text, mentioned) => {
    expect(mentionsApp(text, { GITHUB_APP_SLUG: "jangar" })).toBe(mentioned);
  });

  test("a submitted review without text, and a dismissed review, are not messages", async () => {
    const t = newBackend();
    const empty = await post(t, "pull_request_review", commentOf("pull_request_review", "submitted", ""));
    expect(await deliveryRow(t, empty.body.delivery)).toMatchObject({ status: "ignored", ignoredReason: "The review has no text." });
    const dismissed = await post(t, "pull_request_review", commentOf("pull_request_review", "dismissed"));
    expect(await deliveryRow(t, dismissed.body.delivery)).toMatchObject({ status: "ignored", ignoredReason: expect.stringMatching(/^A dismissed review/) });
  });

  test("an issue opened without a mention only links its orders", async () => {
    const t = newBackend();
    const response = await post(t, "issues", commentOf("issues", "opened", "The README says Helo."));
    expect(await deliveryRow(t, response.body.delivery)).toMatchObject({ status: "processed" });
    expect(await sessionsOf(t, "github:Codertocat")).toEqual([]);
  });

  test("an issue_comment payload sent as another comment event is refused (400), nothing stored", async () => {
    const t = newBackend();
    for (const event of ["pull_request_review_comment", "pull_request_review", "issues"]) {
      const response = await postGithub(t, { event, payload: commentOf("issue_comment") });
      expect(response.status).toBe(400);
    }
    expect(await t.run(async (ctx) => await ctx.db.query("webhook_deliveries").collect())).toEqual([]);
  });
});

describe("edits and deletions", () => {
  async function appended(t: Backend) {
    await post(t, "issue_comment", commentOf("issue_comment"));
    const [session] = await sessionsOf(t, "github:Codertocat");
    return session._id;
  }

  function edit(text: string, updatedAt: string): Payload {
    const payload = examplesOf("issue_comment", "edited")[0];
    payload.comment.body = text;
    payload.comment.updated_at = updatedAt;
    payload.changes = { body: { from: ASK } };
    return payload;
  }

  test("an edit updates the message; an older edit arriving later does not overwrite a newer one", async () => {
    const t = newBackend();
    const sessionId = await appended(t);
    await post(t, "issue_comment", edit("@jangar please fix the spelling in README and CONTRIBUTING.", "2019-05-15T15:30:00Z"));
    const late = await post(t, "issue_comment", edit("@jangar please fix it.", "2019-05-15T15:25:00Z"));
    expect((await messagesOf(t, sessionId)).map((message) => message.content)).toEqual(["@jangar please fix the spelling in README and CONTRIBUTING."]);
    expect(await deliveryRow(t, late.body.delivery)).toMatchObject({ skipped: ["Message github:comment:492700400 already has this or a later edit."] });
  });

  test("an edit that drops the mention still edits the message it was", async () => {
    const t = newBackend();
    const sessionId = await appended(t);
    await post(t, "issue_comment", edit("Never mind, fixed it myself.", "2019-05-15T15:30:00Z"));
    expect((await messagesOf(t, sessionId)).map((message) => message.content)).toEqual(["Never mind, fixed it myself."]);
  });

  test("GitHub's edited examples: a comment never appended is left alone, with the reason", async () => {
    const t = newBackend();
    for (const [event, payload] of [
      ["issue_comment", examplesOf("issue_comment", "edited")[0]],
      ["pull_request_review_comment", examplesOf("pull_request_review_comment", "edited")[0]],
    ] as const) {
      const response = await post(t, event, payload);
      // Nothing of the chat changed (the review comment's example came through the App: its installation is noted).
      expect(await deliveryRow(t, response.body.delivery)).toMatchObject({
        status: event === "issue_comment" ? "ignored" : "processed",
        skipped: [expect.stringMatching(/^Message github:(review_)?comment:\d+ is not mirrored here\.$/)],
      });
    }
  });

  test("a deletion removes the message; a review comment's too", async () => {
    const t = newBackend();
    const sessionId = await appended(t);
    await post(t, "pull_request_review_comment", commentOf("pull_request_review_comment"));
    await post(t, "issue_comment", examplesOf("issue_comment", "deleted")[0]);
    await post(t, "pull_request_review_comment", examplesOf("pull_request_review_comment", "deleted")[0]);
    expect(await messagesOf(t, sessionId)).toEqual([]);
    const [onPr] = (await sessionsOf(t, "github:Codertocat")).filter((session) => session._id !== sessionId);
    expect(await messagesOf(t, onPr._id)).toEqual([]);
  });

  test("a deleted comment is not appended again by a redelivery of its creation", async () => {
    const t = newBackend();
    const sessionId = await appended(t);
    await post(t, "issue_comment", examplesOf("issue_comment", "deleted")[0]);
    await post(t, "issue_comment", commentOf("issue_comment"), { hookId: "555" });
    expect(await messagesOf(t, sessionId)).toEqual([]);
  });

  test("an issue's text: opened with a mention, then edited and deleted", async () => {
    const t = newBackend();
    await post(t, "issues", commentOf("issues", "opened"));
    const [session] = await sessionsOf(t, "github:Codertocat");
    const edited = examplesOf("issues", "edited")[0];
    edited.issue.body = "@jangar fix the README and the docs.";
    edited.issue.updated_at = "2019-05-15T15:40:00Z";
    edited.changes = { body: { from: ASK } };
    await post(t, "issues", edited);
    expect((await messagesOf(t, session._id)).map((message) => message.content)).toEqual(["@jangar fix the README and the docs."]);
    await post(t, "issues", examplesOf("issues", "deleted")[0]);
    expect(await messagesOf(t, session._id)).toEqual([]);
  });
});

describe("once, whichever hook delivered it", () => {
  test("the same comment from the repository's hook and the App's hook, and a replay, is appended once", async () => {
    const t = newBackend();
    const first = await post(t, "issue_comment", commentOf("issue_comment"), { hookId: "111", guid: "a1" });
    await post(t, "issue_comment", commentOf("issue_comment"), { hookId: "222", guid: "a1" });
    await t.mutation(internal.ingest.replay, { deliveryId: first.body.delivery as Id<"webhook_deliveries"> });
    await settle(t);
    const [session] = await sessionsOf(t, "github:Codertocat");
    expect(await messagesOf(t, session._id)).toHaveLength(1);
    expect(await sessionsOf(t, "github:Codertocat")).toHaveLength(1);
    expect(await threads(t)).toHaveLength(1);
  });
});

describe("bounds", () => {
  test("a body over the message limit is skipped with the reason, and starts no session", async () => {
    const t = newBackend();
    const response = await post(t, "issue_comment", commentOf("issue_comment", "created", `@jangar ${"x".repeat(300 * 1024)}`));
    expect(await deliveryRow(t, response.body.delivery)).toMatchObject({
      status: "ignored",
      skipped: [expect.stringMatching(/^Message github:comment:492700400 not appended: content is \d+ bytes long \(UTF-8\); the limit is 262144\.$/)],
    });
    expect(await sessionsOf(t, "github:Codertocat")).toEqual([]);
  });

  test("GitHub's largest comment (65,536 characters of emoji) is appended whole", async () => {
    const t = newBackend();
    const text = `@jangar ${"😀".repeat(32_764)}`;
    await post(t, "issue_comment", commentOf("issue_comment", "created", text));
    const [session] = await sessionsOf(t, "github:Codertocat");
    expect((await messagesOf(t, session._id))[0].content).toBe(text);
  });

  test.each([
    ["its text", (p: Payload) => (p.comment.body = "@jangar \uD800 fix"), "message.content"],
    ["its author", (p: Payload) => (p.comment.user.login = "Coder\uDC00"), "userId"],
    ["its link", (p: Payload) => (p.comment.html_url += "\uD800"), "message.metadata.url"],
  ])("half a surrogate pair in %s (valid JSON) skips the comment with the reason, never a failed delivery", async (_where, spoil, field) => {
    const t = newBackend();
    const payload = commentOf("issue_comment");
    spoil(payload);
    const response = await post(t, "issue_comment", payload);
    expect(await deliveryRow(t, response.body.delivery)).toMatchObject({
      status: "ignored",
      skipped: [`The appendGithubComment command is skipped: its ${field} is not well-formed Unicode (it has half of a surrogate pair).`],
    });
    expect(await sessionsOf(t, "github:Codertocat")).toEqual([]);
  });

  test("half a surrogate pair in a title: the thread's name stands in; in an edit's text, the edit is skipped", async () => {
    const t = newBackend();
    const payload = commentOf("issue_comment");
    payload.issue.title = "Fix \uD800";
    await post(t, "issue_comment", payload);
    const [session] = await sessionsOf(t, "github:Codertocat");
    expect(session.title).toBe("Codertocat/Hello-World#1");
    const edited = examplesOf("issue_comment", "edited")[0];
    edited.comment.body = "\uDFFF";
    const response = await post(t, "issue_comment", edited);
    expect(await deliveryRow(t, response.body.delivery)).toMatchObject({ skipped: [expect.stringMatching(/^The editMessage command is skipped: its content is not well-formed/)] });
    expect((await messagesOf(t, session._id))[0].content).toBe(ASK);
  });

  test.each([
    ["a login of 101 characters", (p: Payload) => (p.comment.user.login = "a".repeat(101)), /comment\.user\.login/],
    ["a comment id that is not a whole number", (p: Payload) => (p.comment.id = 1.5), /comment\.id/],
    ["an issue that is no GitHub issue", (p: Payload) => (p.issue.html_url = "https://example.com/x"), /issue\.html_url/],
  ])("%s is refused (400), naming the field", async (_what, spoil, field) => {
    const t = newBackend();
    const payload = commentOf("issue_comment");
    spoil(payload);
    const response = await postGithub(t, { event: "issue_comment", payload });
    expect(response.status).toBe(400);
    expect(String(response.body.error)).toMatch(field);
  });
});

describe("the shipped fixtures (npm run send -- fixtures/github)", () => {
  test("three mentions become messages in two sessions, the edit follows, the contributor is not heard", async () => {
    const t = newBackend();
    const fixtures = import.meta.glob<{ event: string; hookId: string; payload: Payload }>("../../fixtures/github/*.json", { eager: true, import: "default" });
    const outcomes: string[] = [];
    for (const [file, fixture] of Object.entries(fixtures).sort(([a], [b]) => a.localeCompare(b))) {
      const response = await post(t, fixture.event, fixture.payload, { hookId: fixture.hookId });
      outcomes.push(`${file.replace("../../fixtures/github/", "")} ${String(response.body.status)}`);
    }
    expect(outcomes.slice(5)).toEqual([
      "06-issue_comment-mentions-app.json accepted",
      "07-pull_request_review_comment-mentions-app.json accepted",
      "08-pull_request_review-mentions-app.json accepted",
      "09-issue_comment-edited.json accepted",
      "10-issue_comment-from-contributor.json ignored",
    ]);
    const sessions = await sessionsOf(t, "github:Codertocat");
    const contents = await Promise.all(sessions.map(async (session) => [session.title, (await messagesOf(t, session._id)).map((message) => message.content)]));
    expect(Object.fromEntries(contents)).toEqual({
      "Spelling error in the README file": ["@jangar please fix the spelling of README.md and CONTRIBUTING.md, and add a test for it."],
      "Update the README with new information.": [
        "@jangar use the emoji shortcode here instead of the raw character.",
        "Almost there. @jangar can you also update the changelog?",
      ],
    });
    expect(await sessionsOf(t, "github:octocat")).toEqual([]);
  });
});
