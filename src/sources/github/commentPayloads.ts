import { z } from "zod";
import { LIMITS } from "../../limits";
import { canonicalLinkValue } from "../../workOrders/links";

/*
 * The parts of GitHub's comment payloads that this service reads
 * (docs/contract.md#github-both-ways-the-app-comments-in-replies-and-check-runs-out);
 * other fields pass through unread. Ids and names are bounded here; texts
 * (bodies, titles) are bounded where they are kept.
 */

// A login is at most 39 characters on github.com; GitHub Enterprise Server and bots (`<slug>[bot]`) run a little longer.
const MAX_LOGIN_CHARS = 100;
const MAX_SHORT_CHARS = 64;

/** GitHub's ids: positive whole numbers that a double holds exactly. */
export const githubId = z.int().positive();
const short = z.string().max(MAX_SHORT_CHARS);

export const githubUser = z.object({ login: z.string().min(1).max(MAX_LOGIN_CHARS), type: short.optional() });
export type GithubUser = z.output<typeof githubUser>;

/** The App installation a delivery came through (absent on repository and organization hooks). */
export const installation = z.object({ id: githubId }).nullish();

export const repository = z.object({ full_name: z.string().min(1).max(LIMITS.repoChars) });

const htmlUrl = z.string().max(LIMITS.linkValueChars);
const issueOrPullUrl = htmlUrl.refine((url) => canonicalLinkValue("github_issue", url).ok || canonicalLinkValue("pr", url).ok, {
  message: "not a GitHub issue or pull request URL",
});
const pullUrl = htmlUrl.refine((url) => canonicalLinkValue("pr", url).ok, { message: "not a GitHub pull request URL" });
/** An ISO 8601 time as GitHub writes it (`2019-05-15T15:20:21Z`): it sorts as text. */
const timestamp = z.string().max(MAX_SHORT_CHARS);
/** `changes.body.from` of an edit: the text before it. */
const bodyChange = z.object({ body: z.object({ from: z.string() }).optional() }).optional();

// X-GitHub-Event is not signed: a payload carrying the object that marks another
// event is not read as this one (as in ./payloads.ts).
const absent = (event: string) => z.never({ error: `present: this is ${event} payload, not this event's` }).optional();

/** A comment's or review's text and author, as every kind carries them. */
const authored = {
  id: githubId,
  html_url: htmlUrl,
  body: z.string().nullish(),
  user: githubUser,
  author_association: short,
};

/** The issue or pull request a conversation is on: its number, its title, its page. */
const thread = { number: githubId, title: z.string(), html_url: issueOrPullUrl };

export const issueCommentPayload = z.object({
  action: short,
  issue: z.object(thread),
  comment: z.object({ ...authored, updated_at: timestamp }),
  changes: bodyChange,
  repository,
  installation,
  review: absent("a pull_request_review"),
  pull_request: absent("a pull request's"),
});

export const reviewCommentPayload = z.object({
  action: short,
  pull_request: z.object({ ...thread, html_url: pullUrl }),
  comment: z.object({ ...authored, updated_at: timestamp }),
  changes: bodyChange,
  repository,
  installation,
  review: absent("a pull_request_review"),
});

export const reviewPayload = z.object({
  action: short,
  pull_request: z.object({ ...thread, html_url: pullUrl, updated_at: timestamp }),
  review: z.object(authored),
  changes: bodyChange,
  repository,
  installation,
  comment: absent("a pull_request_review_comment"),
});

/**
 * What an `issues` event adds for a mention (./payloads.ts reads the rest):
 * the issue's author, id and title. Optional, so that an issues event that
 * lacks them still links its orders.
 */
export const issueAuthorship = {
  id: githubId.optional(),
  number: githubId.optional(),
  title: z.string().optional(),
  user: githubUser.optional(),
  author_association: short.optional(),
  updated_at: timestamp.optional(),
};
