import { beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { newBackend, type Backend } from "../helpers/backend";
import { asService } from "../helpers/callers";
import { settle, withFakeClock } from "../helpers/clock";
import { deliveryRow } from "../helpers/inbox/deliveries";
import { messagesOf, newSession, newWorkOrder } from "../helpers/records";
import { ASK, commentOf, KINDS, post, sessionsOf, threads, type Kind } from "../helpers/github/comments";
import { examplesOf, ISSUE_1, PR_2, type Payload } from "../helpers/github/examples";

/*
 * Comments in (docs/contract.md#github-both-ways-the-app-comments-in-replies-and-check-runs-out):
 * GitHub's own example payloads, each with a mention of the App written in.
 */

withFakeClock();
beforeEach(() => {
  vi.stubEnv("GITHUB_APP_SLUG", "jangar");
});

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
