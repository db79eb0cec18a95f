import { describe, expect, test } from "vitest";
import { mentionsApp } from "../../src/sources/github/comments";
import { Markers } from "../../src/sources/github/events";
import { titleFromMention } from "../../src/sources/slack/events";

/*
 * Every pattern applied to sender text runs in linear time (docs/reliability.md):
 * text 8 times longer takes about 8 times as long, never 64 (quadratic).
 * Ratios of two sizes, not wall-clock thresholds, so a slow machine does not fail them.
 */

const FACTOR = 8;

/** The least time per call of `work(text)` over a few rounds of at least 20 ms each. */
function timePerCall(work: (text: string) => unknown, text: string): number {
  let best = Infinity;
  for (let round = 0; round < 5; round += 1) {
    let calls = 0;
    const started = performance.now();
    let elapsed: number;
    do {
      work(text);
      calls += 1;
      elapsed = performance.now() - started;
    } while (elapsed < 20);
    best = Math.min(best, elapsed / calls);
  }
  return best;
}

/** How much longer `work` takes on text FACTOR times longer. */
function growth(work: (text: string) => unknown, textOf: (size: number) => string, size: number): number {
  work(textOf(size));
  return timePerCall(work, textOf(FACTOR * size)) / timePerCall(work, textOf(size));
}

describe("Slack mention stripping (session titles)", () => {
  test.each([
    ["unclosed mentions", (size: number) => "<@".repeat(size / 2)],
    ["unclosed mentions with a label", (size: number) => "<@U|".repeat(size / 4)],
    ["unclosed mentions with an id", (size: number) => "<@U0".repeat(size / 4)],
    ["closed mentions, then one long unclosed", (size: number) => `${"<@U0> ".repeat(size / 12)}<@${"a".repeat(size / 2)}`],
  ])("%s: linear in the text's length", (_shape, textOf) => {
    expect(growth((text) => titleFromMention(text, "U0JANGAR"), textOf, 4000)).toBeLessThan(FACTOR * 3);
  });

  test("the pathological text still gives a title within 80 characters", () => {
    expect(titleFromMention("<@".repeat(16_000), "U0JANGAR").length).toBeLessThanOrEqual(80);
  });
});

describe("Work-Order markers", () => {
  test.each([
    ["values followed by more words", (size: number) => "Work-Order: k57f8gq2wz0d4r8qnw1h3x6f9s7v2c1b and more\n".repeat(size / 52)],
    ["one line of keys", (size: number) => "work-order:".repeat(size / 11)],
    ["one long value then a word", (size: number) => `Work-Order: ${"a".repeat(size)} b`],
    ["blank-padded keys", (size: number) => ` \t work-order \t : \t \n`.repeat(size / 20)],
  ])("%s: linear in the text's length", (_shape, textOf) => {
    expect(growth((text) => new Markers().in(text), textOf, 4000)).toBeLessThan(FACTOR * 3);
  });
});

describe("GitHub App mentions", () => {
  const slug = { GITHUB_APP_SLUG: "jangar" };
  test.each([
    ["at-signs", (size: number) => "@".repeat(size)],
    ["the slug run on into a longer name", (size: number) => "@jangarx ".repeat(size / 9)],
    ["the slug after a word character", (size: number) => "a@jangar".repeat(size / 8)],
    ["the slug as a team", (size: number) => "@jangar/".repeat(size / 8)],
  ])("%s: linear in the text's length", (_shape, textOf) => {
    expect(growth((text) => mentionsApp(text, slug), textOf, 4000)).toBeLessThan(FACTOR * 3);
  });
});
