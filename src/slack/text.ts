import { splitAtLineBreaks } from "../text";

/**
 * Slack's longest message this service posts, in characters (UTF-16 code
 * units, so never more than Slack counts): Slack advises at most 4,000 and
 * truncates past 40,000.
 */
export const SLACK_MESSAGE_CHARS = 3_900;

/** A message's content as the posts that carry it, in order (`splitAtLineBreaks`, src/text.ts). */
export function splitForSlack(content: string, maxChars: number = SLACK_MESSAGE_CHARS): string[] {
  return splitAtLineBreaks(content, maxChars);
}

/**
 * Text as Slack shows it literally: `&`, `<` and `>` escaped, the three
 * characters Slack's mrkdwn gives meaning to (links, `<!channel>` mentions).
 */
export function escapeSlackText(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

// Slack has no escape for its formatting characters; these lookalikes (one UTF-16 unit each, like the originals) show them without formatting.
const LOOKALIKES: Readonly<Record<string, string>> = { "*": "\u2217", _: "\u02CD", "~": "\u223C", "`": "\u02CB" };
// `*`, `_` or `~` with a letter or digit on both sides is inside a word, where Slack does not format: it stays.
const FORMATTING = /`|(?<![\p{L}\p{N}])[*_~]|[*_~](?![\p{L}\p{N}])/gu;

const LINE_BREAK = /[\r\n\u2028\u2029]/g;

/**
 * Text a person or sender wrote, for a place in one line of this service's
 * own mrkdwn (a title in bold, an id in code, a link's label): escaped as
 * escapeSlackText does; every backtick, and every `*`, `_` and `~` at a
 * word's edge (where Slack reads them as code, bold, italics or strike),
 * replaced by a lookalike; each line break a space. So it shows as written
 * and cannot break the markup around it. The length is escapeSlackText's.
 */
export function literalSlackText(text: string): string {
  return escapeSlackText(text).replace(FORMATTING, (char) => LOOKALIKES[char]).replace(LINE_BREAK, " ");
}

/**
 * literalSlackText of `text`, cut so that the result is at most `maxChars`
 * characters as sent (escaping included), `…` marking a cut; never inside a
 * character or an escape.
 */
export function literalWithin(text: string, maxChars: number): string {
  if (escapeSlackText(text).length <= maxChars) {
    return literalSlackText(text);
  }
  let kept = 0;
  let sent = 0;
  for (const char of text) {
    const cost = escapeSlackText(char).length;
    if (sent + cost + 1 > maxChars) {
      break;
    }
    sent += cost;
    kept += char.length;
  }
  return maxChars >= 1 ? `${literalSlackText(text.slice(0, kept))}…` : "";
}
