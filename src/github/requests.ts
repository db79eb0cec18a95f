import type { GithubThread } from "../commands";
import { splitAtLineBreaks } from "../text";

/*
 * The requests the App makes on a repository
 * (docs/contract.md#github-both-ways-the-app-comments-in-replies-and-check-runs-out):
 * a reply's comments and the `eyes` reaction on a comment it heard, as
 * paths of GitHub's REST API, and the marker by which a comment is found
 * again when an attempt to post it got no clear answer.
 */

/** A reply's comments are at most this long; GitHub takes 65,536 characters, and the marker rides along. */
export const GITHUB_COMMENT_CHARS = 60_000;

/** What a reaction is on: a comment on an issue or pull request, a comment on a line of a pull request, or an issue's own text. */
export type ReactionSubject = "issue_comment" | "review_comment" | "issue";

// Owner and repository names as GitHub allows them; anything else never reaches a path.
const REPOSITORY = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\/[A-Za-z0-9._-]+$/;

/** Whether `owner/repo` is a repository name GitHub could give (so that it names one path, and nothing else). */
export function isRepositoryName(repository: string): boolean {
  return REPOSITORY.test(repository) && !/\/\.{1,2}$/.test(repository);
}

function repositoryPath(repository: string): `/repos/${string}` {
  if (!isRepositoryName(repository)) {
    throw new TypeError(`${JSON.stringify(repository.slice(0, 100))} is not a GitHub repository name.`);
  }
  return `/repos/${repository}`;
}

/** Where an `eyes` reaction goes for each kind of subject. */
export function reactionPath(repository: string, subject: ReactionSubject, id: number): `/${string}` {
  const base = repositoryPath(repository);
  switch (subject) {
    case "issue_comment":
      return `${base}/issues/comments/${id}/reactions`;
    case "review_comment":
      return `${base}/pulls/comments/${id}/reactions`;
    case "issue":
      return `${base}/issues/${id}/reactions`;
    default:
      subject satisfies never;
      throw new TypeError(`No reaction path for ${String(subject)}.`);
  }
}

/** An issue's or pull request's conversation: where a reply's comments are posted (and listed). */
export function commentsPath(thread: GithubThread): `/${string}` {
  return `${repositoryPath(thread.repository)}/issues/${thread.number}/comments`;
}

/** A reply's text as the comments that carry it, in order, cut at line breaks. */
export function splitForGithub(content: string): string[] {
  return splitAtLineBreaks(content, GITHUB_COMMENT_CHARS);
}

/** The comment's body with its marker: an HTML comment, which GitHub does not show. */
export function markedBody(text: string, marker: string): string {
  return `${text}\n\n<!-- jangar:${marker} -->`;
}

/** The id of the comment, among those GitHub listed, that carries the marker; undefined when none does. */
export function markedComment(comments: unknown, marker: string): number | undefined {
  if (!Array.isArray(comments)) {
    return undefined;
  }
  const tag = `<!-- jangar:${marker} -->`;
  for (const comment of comments.slice(0, 100)) {
    const { id, body } = (typeof comment === "object" && comment !== null ? comment : {}) as { id?: unknown; body?: unknown };
    if (typeof id === "number" && typeof body === "string" && body.endsWith(tag)) {
      return id;
    }
  }
  return undefined;
}
