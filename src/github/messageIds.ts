/**
 * The id under which a GitHub comment is known to the chat: a comment heard
 * from GitHub (a comment, a review comment, a review, an issue's text; the
 * webhook side), and a comment of ours, recorded so that GitHub's webhook
 * of it is never appended (the outbox side). GitHub's ids are unique per
 * kind, whichever hook delivers them.
 */
export type CommentKind = "comment" | "review_comment" | "review" | "issue";

export function githubMessageId(kind: CommentKind, id: number): string {
  return `github:${kind}:${id}`;
}
