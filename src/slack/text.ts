/**
 * Slack's longest message this service posts, in characters (UTF-16 code
 * units, so never more than Slack counts): Slack advises at most 4,000 and
 * truncates past 40,000.
 */
export const SLACK_MESSAGE_CHARS = 3_900;

/**
 * A message's content as the posts that carry it, in order: cut after the
 * last line break that fits (else the last space, else anywhere but inside a
 * character). The parts joined give the content back, except parts that are
 * only whitespace, which Slack refuses (`no_text`) and which are left out.
 */
export function splitForSlack(content: string, maxChars: number = SLACK_MESSAGE_CHARS): string[] {
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

/**
 * Text as Slack shows it literally: `&`, `<` and `>` escaped, the three
 * characters Slack's mrkdwn gives meaning to (links, `<!channel>` mentions).
 */
export function escapeSlackText(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}
