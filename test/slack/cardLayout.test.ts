import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { renderCard, type RenderedCard } from "../../src/slack/card";
import { WORK_ORDER_STATUSES, type WorkOrderStatus } from "../../src/workOrders/status";
import { check, runs } from "../helpers/fastCheck";

/*
 * How a work order's card reads in Slack: its text, its blocks and its
 * buttons, within Block Kit's limits whatever the title and links.
 */

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
    check("card property", fc.property(cardView, (generated) => expectWithinBlockKit(renderCard(generated))), runs(60), { endOnFailure: true });
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
