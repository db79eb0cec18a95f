import { describe, expect, test } from "vitest";
import { FAKE_SLACK_BOT_USER, FAKE_SLACK_TOKEN, FakeSlack, type SlackAnswer } from "../../fakes/slack";
import { callSlack, findPost, postMarker, retryAfterMs, SLACK_API_URL, type SlackCall } from "../../src/slack/webApi";

/*
 * The Web API client: how it calls Slack and reads Slack's answers, and
 * how it looks for a post by its marker.
 */

describe("the Web API client", () => {
  const config = { token: FAKE_SLACK_TOKEN, baseUrl: SLACK_API_URL, timeoutMs: 10_000 };
  const post: SlackCall = { method: "chat.postMessage", args: { channel: "C1", thread_ts: "1.2", text: "hi" } };

  async function answerTo(answer: SlackAnswer) {
    const slack = new FakeSlack();
    slack.answerNext(answer);
    const result = await callSlack(config, post, slack.fetch);
    expect(slack.violations).toEqual([]);
    return result;
  }

  test.each<[string, SlackAnswer, unknown]>([
    ["ok: true", "ok", { kind: "ok", ts: expect.stringMatching(/^\d{10}\.000001$/) }],
    ["a permanent error", { error: "channel_not_found" }, { kind: "failed", error: "channel_not_found" }],
    ["ratelimited in a 200", { error: "ratelimited" }, { kind: "retry", error: "ratelimited" }],
    ["a transient error after which Slack may have acted", { error: "internal_error" }, { kind: "retry", error: "internal_error", uncertain: true }],
    ["a transient error after which Slack has not acted", { error: "service_unavailable" }, { kind: "retry", error: "service_unavailable" }],
    ["HTTP 429 with Retry-After", { status: 429, retryAfter: "12" }, { kind: "retry", error: "ratelimited (HTTP 429)", retryAfterMs: 12_000 }],
    ["HTTP 503", { status: 503 }, { kind: "retry", error: "Slack answered HTTP 503.", uncertain: true }],
    ["a network error", "network", { kind: "retry", error: "Slack is unreachable: fetch failed: getaddrinfo ENOTFOUND slack.com", uncertain: true }],
  ])("%s", async (_name, answer, expected) => {
    expect(await answerTo(answer)).toEqual(expected);
  });

  test("an answer without ok: true is not a success, and an answer that is not Slack's is a permanent failure", async () => {
    const fetchAnswering = (body: string, status = 200) => (async () => new Response(body, { status })) as typeof fetch;
    expect(await callSlack(config, post, fetchAnswering(JSON.stringify({ ts: "1.2" })))).toEqual({ kind: "failed", error: "an answer without ok: true" });
    expect(await callSlack(config, post, fetchAnswering("<html>", 200))).toMatchObject({ kind: "failed" });
    expect(await callSlack(config, post, fetchAnswering("{}", 404))).toMatchObject({ kind: "failed", error: expect.stringContaining("HTTP 404") });
  });

  test("Retry-After is read as whole seconds, bounded to an hour; anything else is no hint", () => {
    expect(retryAfterMs("30")).toBe(30_000);
    expect(retryAfterMs("0")).toBe(1_000);
    expect(retryAfterMs("999999")).toBe(3_600_000);
    expect([retryAfterMs(null), retryAfterMs("soon"), retryAfterMs("1.5"), retryAfterMs("-3")]).toEqual([undefined, undefined, undefined, undefined]);
  });

  describe("looking for a post by its marker (conversations.replies)", () => {
    const sought = { channel: "C1", threadTs: "1700000000.000100", oldest: "1700000000.000000", marker: "row-7" };

    async function threadWith(count: number, markedAt?: number) {
      const slack = new FakeSlack();
      for (let i = 0; i < count; i += 1) {
        const args = { channel: "C1", thread_ts: sought.threadTs, text: `post ${i}`, ...(i === markedAt ? { metadata: postMarker("row-7") } : {}) };
        await callSlack(config, { method: "chat.postMessage", args }, slack.fetch);
      }
      return slack;
    }

    test("finds it among the thread's first 15 messages since `oldest`, by its marker, in one GET with the token", async () => {
      const slack = await threadWith(20, 14);
      const found = await findPost(config, sought, slack.fetch);
      expect(found).toEqual({ kind: "found", ts: slack.messages[14].ts });
      expect(slack.reads.map(({ method, args }) => [method, args.cursor])).toEqual([["conversations.replies", undefined]]);
      expect(slack.reads[0].args).toEqual({
        channel: "C1",
        ts: sought.threadTs,
        oldest: sought.oldest,
        inclusive: "true",
        limit: "15",
        include_all_metadata: "true",
      });
      expect(slack.violations).toEqual([]);
    });

    test("says not found when no message carries the marker, after one read however long the thread", async () => {
      expect(await findPost(config, sought, (await threadWith(3)).fetch)).toEqual({ kind: "notFound" });
      const crowded = await threadWith(100, 40);
      expect(await findPost(config, sought, crowded.fetch)).toEqual({ kind: "notFound" });
      expect(crowded.reads).toHaveLength(1);
    });

    test("accepts only the bot's own message: a person's, or another app's, carrying the marker is not the post", async () => {
      const slack = new FakeSlack();
      const marked = { channel: "C1", threadTs: sought.threadTs, text: "copied", metadata: postMarker("row-7"), edits: 0 };
      slack.messages.push({ ...marked, ts: "1700000001.000001", user: "U0MALLORY" });
      expect(await findPost(config, { ...sought, botUser: FAKE_SLACK_BOT_USER }, slack.fetch)).toEqual({ kind: "notFound" });
      expect(await findPost(config, sought, slack.fetch)).toEqual({ kind: "notFound" });
      await callSlack(config, { method: "chat.postMessage", args: { channel: "C1", thread_ts: sought.threadTs, text: "mine", metadata: postMarker("row-7") } }, slack.fetch);
      expect(await findPost(config, { ...sought, botUser: FAKE_SLACK_BOT_USER }, slack.fetch)).toEqual({ kind: "found", ts: slack.messages[1].ts });
      expect(await findPost(config, { ...sought, botUser: "U0OTHERAPP" }, slack.fetch)).toEqual({ kind: "notFound" });
    });

    test("reads Slack's refusals and troubles as a call does, without the token", async () => {
      const slack = new FakeSlack();
      slack.answerNextRead({ error: "missing_scope" }, { status: 429, retryAfter: "60" }, "network");
      expect(await findPost(config, sought, slack.fetch)).toEqual({ kind: "failed", error: "missing_scope" });
      expect(await findPost(config, sought, slack.fetch)).toEqual({ kind: "rateLimited", retryAfterMs: 60_000 });
      expect(await findPost(config, sought, slack.fetch)).toMatchObject({ kind: "retry", uncertain: true });
      const echoing = (async () => new Response(`bad token ${FAKE_SLACK_TOKEN}`, { status: 400 })) as typeof fetch;
      expect(JSON.stringify(await findPost(config, sought, echoing))).not.toContain(FAKE_SLACK_TOKEN);
    });
  });

  test("no error it returns holds the token, whatever the answer says", async () => {
    const echoing = (async () => new Response(`bad token ${FAKE_SLACK_TOKEN}`, { status: 400 })) as typeof fetch;
    const answer = await callSlack(config, post, echoing);
    expect(JSON.stringify(answer)).not.toContain(FAKE_SLACK_TOKEN);
    expect(answer).toMatchObject({ kind: "failed", error: expect.stringContaining("[SLACK_BOT_TOKEN]") });
  });
});
