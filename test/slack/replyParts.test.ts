import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { escapeSlackText, splitForSlack } from "../../src/slack/text";
import { check, runs } from "../helpers/fastCheck";

/*
 * How a reply is cut into Slack posts, and how its text is escaped so that
 * Slack shows it as written.
 */

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
    check(
      "split property",
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
      runs(300),
    );
  });

  test("Slack's control characters are escaped, so text is shown as written", () => {
    expect(escapeSlackText("<@U1> & <!here> > x")).toBe("&lt;@U1&gt; &amp; &lt;!here&gt; &gt; x");
  });
});
