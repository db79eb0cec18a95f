import type { z } from "zod";
import type { Command } from "../../commands";
import type { Settings } from "../source";
import type { issueAuthorship, issueCommentPayload, reviewCommentPayload, reviewPayload } from "./commentPayloads";
import type { CommentKind } from "../../github/messageIds";
import { deletedComment, editedComment, newComment, type CommentReading, type GithubComment } from "./comments";

/*
 * Each comment event of GitHub, by action, as a reading of ./comments.ts:
 * created (submitted, opened) is a new comment, edited an edit, deleted a
 * removal; any other action is not acted on.
 */

type Authored = { id: number; html_url: string; body?: string | null; user: GithubComment["user"]; author_association: string };

function commentOf(kind: CommentKind, repository: string, on: GithubComment["on"], authored: Authored): GithubComment {
  return {
    kind,
    id: authored.id,
    body: authored.body,
    url: authored.html_url,
    user: authored.user,
    association: authored.author_association,
    repository,
    on,
  };
}

const notActedOn = (event: string, action: string): CommentReading => ({ ignored: `GitHub's ${event} action ${action} is not acted on.` });

/** A comment's created, edited and deleted actions (an issue's comments and a pull request's review comments alike). */
function commentReading(
  event: string,
  comment: GithubComment,
  { action, changes, updatedAt }: { action: string; changes?: { body?: unknown }; updatedAt: string },
  settings: Settings,
): CommentReading {
  switch (action) {
    case "created":
      return newComment(comment, settings);
    case "edited":
      return editedComment(comment, changes, updatedAt, settings);
    case "deleted":
      return deletedComment(comment, settings);
    default:
      return notActedOn(event, action);
  }
}

export function issueCommentReading(payload: z.output<typeof issueCommentPayload>, settings: Settings): CommentReading {
  const comment = commentOf("comment", payload.repository.full_name, payload.issue, payload.comment);
  return commentReading("issue_comment", comment, { ...payload, updatedAt: payload.comment.updated_at }, settings);
}

export function reviewCommentReading(payload: z.output<typeof reviewCommentPayload>, settings: Settings): CommentReading {
  const comment = commentOf("review_comment", payload.repository.full_name, payload.pull_request, payload.comment);
  return commentReading("pull_request_review_comment", comment, { ...payload, updatedAt: payload.comment.updated_at }, settings);
}

export function reviewReading(payload: z.output<typeof reviewPayload>, settings: Settings): CommentReading {
  const review = commentOf("review", payload.repository.full_name, payload.pull_request, payload.review);
  switch (payload.action) {
    case "submitted":
      return (review.body ?? "").trim().length === 0 ? { ignored: "The review has no text." } : newComment(review, settings);
    case "edited":
      // A review has no time of its own edits; its pull request's updated_at moves with them.
      return editedComment(review, payload.changes, payload.pull_request.updated_at, settings);
    case "dismissed":
      return { ignored: "A dismissed review keeps its text: its message stays as it is." };
    default:
      return notActedOn("pull_request_review", payload.action);
  }
}

type IssuePayload = {
  action: string;
  issue: { html_url: string; body?: string | null } & Partial<z.output<z.ZodObject<typeof issueAuthorship>>>;
  changes?: { body?: unknown };
  repository: { full_name: string };
};

/**
 * What an `issues` event says besides its link: an issue opened with a
 * mention is a message, its edits and deletion follow. An event without the
 * issue's author or id (not one GitHub sends) says nothing more.
 */
export function issueMessageCommands({ action, issue, changes, repository }: IssuePayload, settings: Settings): Command[] {
  const { id, number, title, user, author_association: association } = issue;
  if (id === undefined || number === undefined || user === undefined) {
    return [];
  }
  const comment: GithubComment = {
    kind: "issue",
    id,
    body: issue.body,
    url: issue.html_url,
    user,
    association: association ?? "NONE",
    repository: repository.full_name,
    on: { number, title: title ?? "", html_url: issue.html_url },
  };
  const reading = issueReading(action, comment, changes, issue.updated_at, settings);
  return reading !== null && "commands" in reading ? reading.commands : [];
}

function issueReading(action: string, issue: GithubComment, changes: IssuePayload["changes"], updatedAt: string | undefined, settings: Settings) {
  switch (action) {
    case "opened":
      return newComment(issue, settings);
    case "edited":
      return updatedAt === undefined ? null : editedComment(issue, changes, updatedAt, settings);
    case "deleted":
      return deletedComment(issue, settings);
    default:
      return null;
  }
}
