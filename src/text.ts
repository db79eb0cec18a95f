import { accept, reject, type Check } from "./check";

const utf8 = new TextEncoder();
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, "g");

/** Whether the text is well-formed Unicode: no half of a surrogate pair, which Convex (UTF-8) cannot hold. */
export function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

/** The text with every half of a surrogate pair replaced by U+FFFD, as a UTF-8 decoder would (String.prototype.toWellFormed). */
export function toWellFormed(text: string): string {
  return text.replace(LONE_SURROGATES, "\uFFFD");
}

export function utf8Length(text: string): number {
  return utf8.encode(text).length;
}

function notWellFormed(field: string): Check<never> {
  return reject(`${field} is not well-formed Unicode (it has half of a surrogate pair).`);
}

/**
 * A required piece of text: not blank, and within a size limit counted in
 * characters (`maxChars`) or in UTF-8 bytes (`maxBytes`). The text is kept
 * exactly as given.
 */
export function checkText(
  field: string,
  text: string,
  limit: { maxChars: number } | { maxBytes: number },
): Check<string> {
  if (text.trim().length === 0) {
    return reject(`${field} must not be empty.`);
  }
  if (!isWellFormed(text)) {
    return notWellFormed(field);
  }
  if ("maxChars" in limit && text.length > limit.maxChars) {
    return reject(
      `${field} is ${text.length} characters long; the limit is ${limit.maxChars}.`,
    );
  }
  if ("maxBytes" in limit) {
    const bytes = utf8Length(text);
    if (bytes > limit.maxBytes) {
      return reject(
        `${field} is ${bytes} bytes long (UTF-8); the limit is ${limit.maxBytes}.`,
      );
    }
  }
  return accept(text);
}

/** Optional free text (a reason, say): it may be blank, within a length limit. */
export function checkOptionalText(
  field: string,
  text: string | undefined,
  maxChars: number,
): Check<string | undefined> {
  if (text === undefined) {
    return accept(text);
  }
  if (!isWellFormed(text)) {
    return notWellFormed(field);
  }
  if (text.length > maxChars) {
    return reject(
      `${field} is ${text.length} characters long; the limit is ${maxChars}.`,
    );
  }
  return accept(text);
}

/** At most `maxChars` characters of `text`, never cutting a character in half; `…` marks a cut. */
export function truncate(text: string, maxChars: number): string {
  if (text.length <= maxChars) {
    return text;
  }
  let cut = text.slice(0, maxChars - 1);
  if (/[\uD800-\uDBFF]$/.test(cut)) {
    cut = cut.slice(0, -1);
  }
  return `${cut}…`;
}

/**
 * A message's content as the posts that carry it, in order, each at most
 * `maxChars`: cut after the last line break that fits (else the last space,
 * else anywhere but inside a character). The parts joined give the content
 * back, except parts that are only whitespace, which Slack and GitHub
 * refuse, and which are left out.
 */
export function splitAtLineBreaks(content: string, maxChars: number): string[] {
  if (!(maxChars >= 2)) {
    throw new TypeError(`maxChars must be at least 2; got ${maxChars}.`);
  }
  const parts: string[] = [];
  let start = 0;
  while (content.length - start > maxChars) {
    const window = content.slice(start, start + maxChars);
    let cut = window.lastIndexOf("\n") + 1;
    if (cut === 0) {
      cut = Math.max(window.lastIndexOf(" "), window.lastIndexOf("\t")) + 1;
    }
    if (cut === 0) {
      cut = /[\uD800-\uDBFF]$/.test(window) ? maxChars - 1 : maxChars;
    }
    parts.push(content.slice(start, start + cut));
    start += cut;
  }
  parts.push(content.slice(start));
  return parts.filter((part) => part.trim().length > 0);
}

/** Parts of a message numbered for their posts: each part's text, its number from 1, and how many there are. */
export function numberedParts(parts: string[]): { text: string; part: number; parts: number }[] {
  return parts.map((text, i) => ({ text, part: i + 1, parts: parts.length }));
}
