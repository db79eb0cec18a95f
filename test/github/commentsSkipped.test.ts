import { beforeEach, describe, expect, test, vi } from "vitest";
import { mentionsApp } from "../../src/sources/github/comments";
import { domainTables } from "../helpers/assertions";
import { newBackend } from "../helpers/backend";
import { withFakeClock } from "../helpers/clock";
import { deliveryRow } from "../helpers/inbox/deliveries";
import { messagesOf } from "../helpers/records";
import { ASK, commentOf, post, sessionsOf } from "../helpers/github/comments";
import { examplesOf, type Payload } from "../helpers/github/examples";
import { postGithub } from "../helpers/senders/github";

/*
 * Comments in (docs/contract.md#github-both-ways-the-app-comments-in-replies-and-check-runs-out):
 * GitHub's own example payloads, each with a mention of the App written in.
 */

withFakeClock();
beforeEach(() => {
  vi.stubEnv("GITHUB_APP_SLUG", "jangar");
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
