import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { FAKE_SLACK_BOT_USER, FAKE_SLACK_TOKEN, FakeSlack, type SlackAnswer } from "../../fakes/slack";
import { renderCard, type RenderedCard } from "../../src/slack/card";
import { escapeSlackText, splitForSlack } from "../../src/slack/text";
import { callSlack, findPost, postMarker, retryAfterMs, SLACK_API_URL, type SlackCall } from "../../src/slack/webApi";
import { WORK_ORDER_STATUSES, type WorkOrderStatus } from "../../src/workOrders/status";

/*
 * The pure half of posting to Slack: how a reply is cut into posts, how a
 * card reads, and how the Web API client reads Slack's answers.
 */

const SEED = Number(process.env.FC_SEED ?? Math.floor(Math.random() * 0x7fffffff));

describe("splitting a reply into posts", () => {
  test("content of at most 3,900 characters is one post, as it is", () => {
    expect(splitForSlack("Done.\nSee #12.")).toEqual(["Done.\nSee #12."]);
    expect(splitForSlack("x".repeat(3900))).toEqual(["x".repeat(3900)]);
  });

  test("longer content is cut after the last line break that fits", () => {
    const first = `${"a".repeat(3000)}\n${"b".repeat(800)}\n`;
    const second = `${"c".repeat(500)}\nend`;
    expect(splitForSlack(first + second)).toEqual([first, second]);
  });

  test("a line longer than a post is cut at its last space, else anywhere but inside a character", () => {
    const words = `${"word ".repeat(800)}`;
    const parts = splitForSlack(words);
    expect(parts.map((part) => part.length)).toEqual([3900, 100]);
    expect(parts[0].endsWith(" ")).toBe(true);
    // 3,900 code units from the start would end inside the 1,950th emoji.
    const emoji = `x${"😀".repeat(2000)}`;
    const cut = splitForSlack(emoji);
    expect(cut.join("")).toBe(emoji);
    expect(cut[0].length).toBe(3899);
    expect(cut.every((part) => !/^[\uDC00-\uDFFF]/.test(part))).toBe(true);
  });

  test("parts that are only whitespace are left out, since Slack refuses empty posts", () => {
    const parts = splitForSlack(`${"a".repeat(3899)}\n${" ".repeat(3000)}\n${"\n".repeat(3000)}b`);
    expect(parts).toEqual(["a".repeat(3899) + "\n", `${"\n".repeat(2101)}b`]);
  });

  test("for any content: parts within the limit, in order, giving the content back, cut at line breaks where one fits", () => {
    const text = fc.array(fc.oneof(fc.string({ unit: "grapheme", maxLength: 300 }), fc.constantFrom("\n", " ", "😀", "x".repeat(500))), { maxLength: 40 }).map((pieces) => pieces.join(""));
    console.info(`split property: seed=${SEED} (rerun with FC_SEED=${SEED})`);
    fc.assert(
      fc.property(text, fc.integer({ min: 2, max: 700 }), (content, max) => {
        const parts = splitForSlack(content, max);
        for (const part of parts) {
          expect(part.length).toBeLessThanOrEqual(max);
          expect(part.trim().length).toBeGreaterThan(0);
        }
        // A part is cut after its last line break: one that does not end with a line break has none.
        for (const part of parts.slice(0, -1)) {
          expect(part.endsWith("\n") || !part.includes("\n")).toBe(true);
        }
        // Nothing is lost or reordered: only parts of whitespace alone are left out.
        expect(parts.join("").replace(/\s/g, "")).toBe(content.replace(/\s/g, ""));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  test("Slack's control characters are escaped, so text is shown as written", () => {
    expect(escapeSlackText("<@U1> & <!here> > x")).toBe("&lt;@U1&gt; &amp; &lt;!here&gt; &gt; x");
  });
});

describe("the work-order card", () => {
  const view = {
    workOrderId: "k57abc",
    title: "Fix <login> & SSO",
    status: "running" as const,
    pullRequests: ["https://github.com/acme/api/pull/12", "https://git.example.com/a/b/pull/3"],
    morePullRequests: false,
  };

  test("shows the title, the status and each pull request, with text as the fallback", () => {
    expect(renderCard(view)).toEqual({
      text: "Work order Fix &lt;login&gt; &amp; SSO: running · PR <https://github.com/acme/api/pull/12|acme/api#12> · PR <https://git.example.com/a/b/pull/3|git.example.com/a/b#3>",
      blocks: [
        { type: "section", text: { type: "mrkdwn", text: "*Fix &lt;login&gt; &amp; SSO*\n:gear: Running" } },
        { type: "section", text: { type: "mrkdwn", text: ":link: Pull request <https://github.com/acme/api/pull/12|acme/api#12>" } },
        { type: "section", text: { type: "mrkdwn", text: ":link: Pull request <https://git.example.com/a/b/pull/3|git.example.com/a/b#3>" } },
        { type: "context", elements: [{ type: "mrkdwn", text: "Work order `k57abc`" }] },
        {
          type: "actions",
          elements: [
            {
              type: "button",
              text: { type: "plain_text", text: "Cancel" },
              action_id: "work_order.cancel",
              value: "k57abc",
              style: "danger",
              confirm: {
                title: { type: "plain_text", text: "Cancel this work order?" },
                text: { type: "plain_text", text: "Fix <login> & SSO is marked canceled." },
                confirm: { type: "plain_text", text: "Cancel it" },
                deny: { type: "plain_text", text: "Keep it" },
              },
            },
          ],
        },
      ],
    });
  });

  test("Cancel while the order is not final, Retry once it failed and until it is retried, no button after", () => {
    const buttons = (status: WorkOrderStatus, retriedAs?: string) =>
      renderCard({ ...view, status, retriedAs })
        .blocks.flatMap((block) => (block.type === "actions" ? block.elements : []))
        .map((button) => `${button.action_id}=${button.value}`);
    expect(Object.fromEntries(WORK_ORDER_STATUSES.map((status) => [status, buttons(status)]))).toEqual({
      draft: ["work_order.cancel=k57abc"],
      submitted: ["work_order.cancel=k57abc"],
      accepted: ["work_order.cancel=k57abc"],
      running: ["work_order.cancel=k57abc"],
      succeeded: [],
      failed: ["work_order.retry=k57abc"],
      canceled: [],
    });
    expect(buttons("failed", "k57def")).toEqual([]);
    const retried = renderCard({ ...view, status: "failed", retriedAs: "k57def" });
    expect(retried.text).toBe("Work order Fix &lt;login&gt; &amp; SSO: failed, retried as k57def · PR <https://github.com/acme/api/pull/12|acme/api#12> · PR <https://git.example.com/a/b/pull/3|git.example.com/a/b#3>");
    expect(retried.blocks.at(-1)).toEqual({ type: "context", elements: [{ type: "mrkdwn", text: "Work order `k57abc` · :repeat: retried as `k57def`" }] });
  });

  test("says when there are more pull requests than it lists, and keeps every block within Block Kit's 3,000 characters", () => {
    const long = `https://github.com/${"o".repeat(900)}/${"r".repeat(900)}/pull/1`;
    const card = renderCard({ ...view, pullRequests: Array.from({ length: 5 }, () => long), morePullRequests: true });
    expect(card.text).toContain("(and more)");
    expect(JSON.stringify(card.blocks.find((block) => block.type === "context"))).toContain("more pull requests than the 5 shown");
    expectWithinBlockKit(card);
  });

  test("a pull-request link that escaping takes past 3,000 characters is shown by its label, without the link", () => {
    const url = `https://github.com/${"&".repeat(1900)}/api/pull/1`;
    const card = renderCard({ ...view, pullRequests: [url] });
    expectWithinBlockKit(card);
    // The label is the owner/repo#number, cut to 100 characters.
    expect(card.blocks[1]).toEqual({ type: "section", text: { type: "mrkdwn", text: `:link: Pull request ${"&amp;".repeat(99)}…` } });
    expect(card.text).toBe(`Work order Fix &lt;login&gt; &amp; SSO: running · PR ${"&amp;".repeat(99)}…`);
  });

  test("for any title and links, every block and the fallback text stay within Slack's limits", () => {
    const hostile = (maxLength: number) =>
      fc.oneof(
        fc.string({ unit: fc.constantFrom("&", "<", ">", "|", "*", "`", "a", "é", "😀", " ", "\n"), maxLength, size: "max" }),
        fc.string({ unit: "grapheme", maxLength, size: "max" }),
      );
    const url = fc.oneof(
      fc.webUrl(),
      hostile(2048).map((path) => `https://github.com/${path}`),
      fc.tuple(hostile(900), hostile(900), fc.nat()).map(([owner, repo, n]) => `https://github.com/${owner}/${repo}/pull/${n}`),
    );
    const cardView = fc.record({
      workOrderId: hostile(300),
      title: hostile(5000),
      status: fc.constantFrom(...WORK_ORDER_STATUSES),
      pullRequests: fc.array(url, { maxLength: 7 }),
      morePullRequests: fc.boolean(),
      retriedAs: fc.option(hostile(300), { nil: undefined }),
    });
    console.info(`card property: seed=${SEED} (rerun with FC_SEED=${SEED})`);
    fc.assert(
      fc.property(cardView, (generated) => expectWithinBlockKit(renderCard(generated))),
      { seed: SEED, numRuns: 60, endOnFailure: true },
    );
  });
});

/** Block Kit's limits, as Slack counts them in what is sent: a card past them is refused for good. */
function expectWithinBlockKit(card: RenderedCard) {
  expect(card.blocks.length).toBeLessThanOrEqual(50);
  expect(card.text.length).toBeGreaterThan(0);
  expect(card.text.length).toBeLessThanOrEqual(3900);
  for (const block of card.blocks) {
    if (block.type === "actions") {
      // Buttons: label 75 characters, value 2,000; a confirmation's title 100, text 300, buttons 30.
      for (const button of block.elements) {
        expect(button.text.text.length).toBeGreaterThan(0);
        expect(button.text.text.length).toBeLessThanOrEqual(75);
        expect(button.value.length).toBeLessThanOrEqual(2000);
        const { title, text, confirm, deny } = button.confirm ?? { title: button.text, text: button.text, confirm: button.text, deny: button.text };
        expect([title.text.length, text.text.length, confirm.text.length, deny.text.length].every((n) => n > 0)).toBe(true);
        expect(title.text.length).toBeLessThanOrEqual(100);
        expect(text.text.length).toBeLessThanOrEqual(300);
        expect(Math.max(confirm.text.length, deny.text.length)).toBeLessThanOrEqual(30);
      }
      continue;
    }
    const texts = block.type === "section" ? [block.text.text] : block.elements.map((element) => element.text);
    if (block.type === "context") {
      expect(block.elements.length).toBeLessThanOrEqual(10);
    }
    for (const text of texts) {
      expect(text.length).toBeGreaterThan(0);
      expect(text.length).toBeLessThanOrEqual(3000);
    }
  }
}

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
