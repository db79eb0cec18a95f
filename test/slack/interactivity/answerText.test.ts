import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ANSWERS, orderLine, orderList, type OrderLine } from "../../../src/slack/answers";
import { renderCard } from "../../../src/slack/card";
import { literalSlackText, SLACK_MESSAGE_CHARS } from "../../../src/slack/text";
import { truncate } from "../../../src/text";
import { WORK_ORDER_STATUSES } from "../../../src/workOrders/status";
import { check, runs } from "../../helpers/fastCheck";

/*
 * What a person is told in Slack, for any titles, links and reasons: one
 * message at most, and nothing a sender wrote shown as Slack's markup.
 */

describe("what a person is told, for any titles, links and reasons", () => {
  const hostile = (maxLength: number) =>
    fc.oneof(
      fc.string({ unit: fc.constantFrom("&", "<", ">", "|", "*", "_", "~", "`", "a", "é", "😀", " ", "\n"), maxLength, size: "max" }),
      fc.string({ unit: "grapheme", maxLength, size: "max" }),
    );
  const url = fc.oneof(
    fc.webUrl(),
    hostile(2048).map((path) => `https://github.com/${path}`),
    fc.tuple(hostile(900), hostile(900), fc.nat()).map(([owner, repo, n]) => `https://github.com/${owner}/${repo}/pull/${n}`),
  );
  // Ids as Convex makes them: what a list shows; a person may type anything after `status`.
  const id = fc.stringMatching(/^[a-z0-9]{32}$/);
  const line: fc.Arbitrary<OrderLine> = fc.record(
    { workOrderId: id, title: hostile(200), status: fc.constantFrom(...WORK_ORDER_STATUSES), pullRequest: url, retriedAs: id },
    { requiredKeys: ["workOrderId", "title", "status"] },
  );
  /** Every `<` opens a link this service made, so nothing a sender wrote mentions anyone (`<!channel>`) or links. */
  const expectNoMarkupFromSender = (text: string) => {
    expect(text.length).toBeLessThanOrEqual(SLACK_MESSAGE_CHARS);
    expect(text.replace(/<https?:\/\/[^<>|]*\|[^<>]*>/g, "")).not.toMatch(/[<>]/);
  };

  test("`status` lists every order within one message; `status <id>` and every answer fit one too", () => {
    check(
      "answers property",
      fc.property(fc.array(line, { minLength: 1, maxLength: 10 }), hostile(5000), hostile(300), (orders, reason, typed) => {
        const list = orderList(orders);
        expectNoMarkupFromSender(list);
        expect(list.split("\n• ")).toHaveLength(orders.length + 1);
        orders.forEach((order) => expect(list).toContain(`\`${order.workOrderId}\``));
        expectNoMarkupFromSender(orderLine({ ...orders[0], workOrderId: typed }));
        for (const answer of [
          ANSWERS.notFound(typed),
          ANSWERS.notYours(orders[0].title, "retry"),
          ANSWERS.notCanceled(orders[0].title, reason),
          ANSWERS.notRetried(orders[0].title, reason),
          ANSWERS.alreadyRetried(orders[0].title, typed),
        ]) {
          expectNoMarkupFromSender(answer);
        }
      }),
      runs(100),
      { endOnFailure: true },
    );
  });

  test("a title's formatting characters never reach Slack as formatting, in an answer or on a card", () => {
    check(
      "title formatting property",
      fc.property(hostile(200), (title) => {
        const shown = literalSlackText(title);
        expect(shown).not.toMatch(/`|(?<![\p{L}\p{N}])[*_~]|[*_~](?![\p{L}\p{N}])/u);
        expect(ANSWERS.canceled(title)).toBe(`Canceled *${literalSlackText(truncate(title, 80))}*.`);
        const card = renderCard({ workOrderId: "k57abc", title, status: "running", pullRequests: [], morePullRequests: false });
        expect(card.blocks[0]).toMatchObject({ type: "section", text: { text: expect.not.stringMatching(/`/) } });
      }),
      runs(100),
      { endOnFailure: true },
    );
  });
});
