import type { Command, GithubThread } from "../../commands";
import { githubMessageId, type CommentKind } from "../../github/messageIds";
import { isRepositoryName, type ReactionSubject } from "../../github/requests";
import { isWellFormed, truncate } from "../../text";
import { canonicalLinkValue } from "../../workOrders/links";
import type { Settings } from "../source";
import type { GithubUser } from "./commentPayloads";

/*
 * Comments in (docs/contract.md#github-both-ways-the-app-comments-in-replies-and-check-runs-out):
 * which comments, reviews and issues are messages for Jangar, and the
 * commands they make. Pure: whether a thread is bound is known only when
 * the commands are applied.
 */

export const COMMENT_SETTING_NAMES = ["GITHUB_APP_SLUG", "GITHUB_COMMENT_ASSOCIATIONS"] as const;
export const DEFAULT_ASSOCIATIONS = ["OWNER", "MEMBER", "COLLABORATOR"] as const;
const TITLE_CHARS = 80;
// GitHub's App slugs: lower-case letters, digits and hyphens.
const SLUG = /^[a-z0-9][a-z0-9-]{0,99}$/;
const SLUG_FORM = "lower-case letters, digits and dashes; `@jangar` and `jangar[bot]` are read as `jangar`";

/** The App's slug as GITHUB_APP_SLUG gives it (`jangar`, `@Jangar`, `jangar[bot]` alike), or null when it is not one. */
export function appSlugOf(setting: string): string | null {
  const slug = setting.trim().toLowerCase().replace(/^@/, "").replace(/\[bot\]$/, "");
  return SLUG.test(slug) ? slug : null;
}

/** Why GITHUB_APP_SLUG is not an App's slug, or null. */
export function appSlugProblem(setting: string): string | null {
  return appSlugOf(setting) === null ? `not an App slug (${SLUG_FORM})` : null;
}


/** A comment, a review or an issue's opening text, as the kinds share it. */
export type GithubComment = {
  kind: CommentKind;
  id: number;
  body: string | null | undefined;
  url: string;
  user: GithubUser;
  association: string;
  repository: string;
  /** The issue or pull request it is on. */
  on: { number: number; title: string; html_url: string };
};

/** What the `eyes` reaction goes on, by kind; a review has none (GitHub has no reactions on reviews). */
const REACTION_SUBJECTS: Record<CommentKind, ReactionSubject | undefined> = {
  comment: "issue_comment",
  review_comment: "review_comment",
  issue: "issue",
  review: undefined,
};

export type CommentReading = { ignored: string } | { commands: Command[] };

type CommentSettings = { slug: string; mention: RegExp; associations: ReadonlySet<string> };

/**
 * GITHUB_APP_SLUG (as typed: `@jangar`, `jangar[bot]` and `Jangar` name the
 * same App) and GITHUB_COMMENT_ASSOCIATIONS; why comments are not read
 * when the slug is unset or is not one.
 */
function commentSettings(settings: Settings): CommentSettings | { ignored: string } {
  const raw = settings.GITHUB_APP_SLUG;
  if (raw === undefined) {
    return { ignored: "GITHUB_APP_SLUG is unset: comments are not read." };
  }
  const slug = appSlugOf(raw);
  if (slug === null) {
    return { ignored: `GITHUB_APP_SLUG is not a GitHub App slug (${SLUG_FORM}): comments are not read.` };
  }
  const listed = (settings.GITHUB_COMMENT_ASSOCIATIONS ?? "")
    .split(",")
    .map((entry) => entry.trim().toUpperCase())
    .filter((entry) => entry.length > 0);
  // The slug holds no character a pattern treats specially. The match is a literal
  // after a one-character look-behind: linear in the text's length.
  const mention = new RegExp(`(?<![A-Za-z0-9_@./-])@${slug}(?![A-Za-z0-9_/-])`, "i");
  return { slug, mention, associations: new Set(listed.length > 0 ? listed : DEFAULT_ASSOCIATIONS) };
}

/** Whether `text` mentions `@<slug>`, in any case, as a whole word (not `@slug-other`, `a@slug`, `@slug/team`). */
export function mentionsApp(text: string, settings: Settings): boolean {
  const read = commentSettings(settings);
  return "mention" in read && read.mention.test(text);
}

function isBot(user: GithubUser, slug: string): boolean {
  return user.type === "Bot" || user.login.toLowerCase() === `${slug}[bot]`;
}

/** The thread a comment is on, and the link that names its issue or pull request (as orders are linked to it). */
function threadOf(comment: GithubComment): { thread: GithubThread; link: { kind: "pr" | "github_issue"; value: string } } {
  const pr = canonicalLinkValue("pr", comment.on.html_url);
  const issue = canonicalLinkValue("github_issue", comment.on.html_url);
  // The payload schemas admit only issue and pull request URLs.
  const link = pr.ok ? { kind: "pr" as const, value: pr.value } : { kind: "github_issue" as const, value: issue.ok ? issue.value : comment.on.html_url };
  return { thread: { repository: comment.repository.toLowerCase(), number: comment.on.number }, link };
}

/** The thread's title, cut; its name when the title is blank or could not be stored (half of a surrogate pair). */
function titleOf(comment: GithubComment): string {
  const title = comment.on.title.replace(/\s+/g, " ").trim();
  return title.length === 0 || !isWellFormed(title) ? `${comment.repository}#${comment.on.number}` : truncate(title, TITLE_CHARS);
}

/**
 * A new comment (a created comment or review comment, a submitted review,
 * an opened issue): a message for Jangar when it mentions the App, comes
 * from an allowed association and not from a bot; else why not.
 */
export function newComment(comment: GithubComment, settings: Settings): CommentReading {
  const read = commentSettings(settings);
  if ("ignored" in read) {
    return read;
  }
  if (isBot(comment.user, read.slug)) {
    return { ignored: `The ${comment.kind} comes from a bot (${comment.user.login}).` };
  }
  const body = comment.body ?? "";
  if (!read.mention.test(body)) {
    return { ignored: `The ${comment.kind} does not mention @${read.slug}.` };
  }
  if (!read.associations.has(comment.association.toUpperCase())) {
    return {
      ignored: `The ${comment.kind}'s author is ${comment.association}; only ${[...read.associations].join(", ")} may ask Jangar (GITHUB_COMMENT_ASSOCIATIONS).`,
    };
  }
  if (!isRepositoryName(comment.repository)) {
    return { ignored: `The repository's name is not one GitHub gives (owner/name).` };
  }
  const { thread, link } = threadOf(comment);
  const reaction = REACTION_SUBJECTS[comment.kind];
  return {
    commands: [
      {
        type: "appendGithubComment",
        thread,
        link,
        ...(reaction === undefined ? {} : { reaction: { subject: reaction, id: comment.kind === "issue" ? comment.on.number : comment.id } }),
        userId: `github:${comment.user.login}`,
        title: titleOf(comment),
        message: {
          externalId: githubMessageId(comment.kind, comment.id),
          role: "user",
          content: body,
          metadata: {
            source: "github",
            repository: comment.repository,
            number: comment.on.number,
            commentId: comment.id,
            url: comment.url,
            author: comment.user.login,
          },
        },
      },
    ],
  };
}

/**
 * An edited comment: its message, if it was appended, takes the new text.
 * `version` (the time GitHub updated it) keeps an older edit from
 * overwriting a newer one.
 */
export function editedComment(comment: GithubComment, changes: { body?: unknown } | undefined, version: string, settings: Settings): CommentReading {
  const read = commentSettings(settings);
  if ("ignored" in read) {
    return read;
  }
  if (isBot(comment.user, read.slug)) {
    return { ignored: `The edited ${comment.kind} comes from a bot (${comment.user.login}).` };
  }
  if (changes?.body === undefined) {
    return { ignored: `The edit leaves the ${comment.kind}'s text as it was.` };
  }
  return { commands: [{ type: "editMessage", externalId: githubMessageId(comment.kind, comment.id), content: comment.body ?? "", version }] };
}

/** A deleted comment: its message, if it was appended, is removed. */
export function deletedComment(comment: Pick<GithubComment, "kind" | "id" | "user">, settings: Settings): CommentReading {
  const read = commentSettings(settings);
  if ("ignored" in read) {
    return read;
  }
  if (isBot(comment.user, read.slug)) {
    return { ignored: `The deleted ${comment.kind} comes from a bot (${comment.user.login}).` };
  }
  return { commands: [{ type: "removeMessage", externalId: githubMessageId(comment.kind, comment.id) }] };
}
