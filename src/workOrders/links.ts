import { literals } from "convex-helpers/validators";
import type { Infer } from "convex/values";
import { accept, reject, type Check } from "../check";
import { LIMITS } from "../limits";

export const LINK_KINDS = ["github_issue", "pr", "commit"] as const;
export const vLinkKind = literals(...LINK_KINDS);
/** The kinds of link a webhook finds its orders by (rule 3): an issue's or pull request's URL. */
export const vSelectableLinkKind = literals("github_issue", "pr");
export type LinkKind = Infer<typeof vLinkKind>;

const URL_PATH_SEGMENT: Record<Exclude<LinkKind, "commit">, string> = {
  github_issue: "issues",
  pr: "pull",
};

/**
 * The one stored form of a link value, so that the same issue, pull request
 * or commit is one row however it was spelled:
 * - `commit`: a 40-hex SHA, lower case;
 * - `pr` / `github_issue`: `https://<host>/<owner>/<repo>/pull|issues/<number>`,
 *   host (without `www.`), owner and repository in lower case (GitHub
 *   treats them so), no trailing slash.
 */
export function canonicalLinkValue(kind: LinkKind, raw: string): Check<string> {
  const text = raw.trim();
  if (text.length > LIMITS.linkValueChars) {
    return reject(`value is ${text.length} characters long; the limit is ${LIMITS.linkValueChars}.`);
  }
  if (kind === "commit") {
    return /^[0-9a-f]{40}$/i.test(text)
      ? accept(text.toLowerCase())
      : reject(`A commit link needs a 40-character hexadecimal SHA; got ${JSON.stringify(text)}.`);
  }
  const segment = URL_PATH_SEGMENT[kind];
  const example = `https://github.com/owner/repo/${segment}/123`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return reject(`A ${kind} link needs an https URL such as ${example}; got ${JSON.stringify(text)}.`);
  }
  const parts = url.pathname.replace(/\/$/, "").split("/").slice(1);
  const wellFormed =
    url.protocol === "https:" &&
    url.username === "" &&
    url.password === "" &&
    url.search === "" &&
    url.hash === "" &&
    parts.length === 4 &&
    parts[0] !== "" &&
    parts[1] !== "" &&
    parts[2] === segment &&
    /^[1-9][0-9]{0,9}$/.test(parts[3]);
  if (!wellFormed) {
    return reject(
      `A ${kind} link needs an https URL of the form ${example} (no query or fragment); got ${JSON.stringify(text)}.`,
    );
  }
  const [owner, repo, , number] = parts;
  return accept(
    `https://${url.host.toLowerCase().replace(/^www\./, "")}/${owner.toLowerCase()}/${repo.toLowerCase()}/${segment}/${number}`,
  );
}
