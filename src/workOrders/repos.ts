import { accept, reject, type Check } from "../check";
import { LIMITS } from "../limits";

const OWNER = "[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?";
const NAME = "[A-Za-z0-9._-]+";

// Every spelling of a github.com repository that a person or a tool is likely to paste.
const GITHUB_REPO_FORMS = [
  new RegExp(`^(?:https?://)?(?:www\\.)?github\\.com/(${OWNER})/(${NAME})/?$`, "i"),
  new RegExp(`^(?:ssh://)?git@github\\.com[:/](${OWNER})/(${NAME})/?$`, "i"),
  new RegExp(`^git://github\\.com/(${OWNER})/(${NAME})/?$`, "i"),
  new RegExp(`^(${OWNER})/(${NAME})/?$`, "i"),
];

/**
 * The repository's name without its `.git` endings, every one of them (a
 * name that is only `.git` keeps it): what is left never ends in one, so
 * the stored form reads as itself again. A loop, not a pattern, so that it
 * takes linear time on any name.
 */
function withoutGitEndings(name: string): string {
  let end = name.length;
  while (end > 4 && name.slice(end - 4, end).toLowerCase() === ".git") {
    end -= 4;
  }
  return name.slice(0, end);
}

/**
 * The one stored form of a repository reference. A github.com repository,
 * however it is spelled (URL, SSH remote, `owner/name`), becomes
 * `owner/name` in lower case, which is how a webhook's
 * `repository.full_name` is compared. Anything else (a local path, another
 * host) is kept as given, without surrounding whitespace. The stored form is
 * a fixed point: canonicalizing it again gives it back
 * (docs/contract.md#hardening-rules).
 */
export function canonicalRepo(raw: string): Check<string> {
  const text = raw.trim();
  if (text.length === 0) {
    return reject("targetRepo must not be empty; give `owner/name` or a repository URL.");
  }
  if (text.length > LIMITS.repoChars) {
    return reject(`targetRepo is ${text.length} characters long; the limit is ${LIMITS.repoChars}.`);
  }
  for (const form of GITHUB_REPO_FORMS) {
    const match = form.exec(text);
    const name = match === null ? null : withoutGitEndings(match[2]);
    if (match !== null && name !== "." && name !== "..") {
      return accept(`${match[1]}/${name}`.toLowerCase());
    }
  }
  return accept(text);
}

/** A branch name as Git and GitHub report it: `refs/heads/` is dropped, as often as it leads, so that the result reads as itself again. */
export function canonicalBranch(raw: string): Check<string> {
  const branch = raw.trim().replace(/^(?:refs\/heads\/)+/, "");
  if (branch.length === 0) {
    return reject("targetBranch must not be empty; give a branch name such as `main`.");
  }
  if (branch.length > LIMITS.branchChars) {
    return reject(`targetBranch is ${branch.length} characters long; the limit is ${LIMITS.branchChars}.`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\s\x00-\x1f\x7f~^:?*[\\]/.test(branch)) {
    return reject(`targetBranch ${JSON.stringify(branch)} is not a valid Git branch name.`);
  }
  return accept(branch);
}
