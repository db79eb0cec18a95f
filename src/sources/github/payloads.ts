import { z } from "zod";
import { canonicalLinkValue } from "../../workOrders/links";
import { installation, issueAuthorship } from "./commentPayloads";

// The parts of GitHub's payloads that this service reads; other fields pass through unread.

const linkUrl = (kind: "pr" | "github_issue") =>
  z.string().refine((url) => canonicalLinkValue(kind, url).ok, {
    message: `not a GitHub ${kind === "pr" ? "pull request" : "issue"} URL`,
  });
const commitSha = z.string().regex(/^[0-9a-f]{40}$/i, "not a 40-hex commit SHA");
const repository = z.object({ full_name: z.string().min(1) });
// X-GitHub-Event is not signed: a payload carrying the object that marks another
// event (an issue_comment's `comment`, a review's `review`) is not read as this one.
const absent = (event: string) => z.never({ error: `present: this is ${event} payload, not this event's` }).optional();

export const pingPayload = z.object({ zen: z.string().optional() });

export const issuesPayload = z.object({
  action: z.string(),
  // GitHub also sends issues events for pull requests (they are issues too): their URL is /pull/.
  issue: z.object({
    html_url: z.string().refine(
      (url) => canonicalLinkValue("github_issue", url).ok || canonicalLinkValue("pr", url).ok,
      { message: "not a GitHub issue or pull request URL" },
    ),
    body: z.string().nullish(),
    ...issueAuthorship,
  }),
  changes: z.object({ body: z.object({ from: z.string() }).optional() }).optional(),
  repository,
  installation,
  comment: absent("an issue_comment"),
});

export const pullRequestPayload = z.object({
  action: z.string(),
  pull_request: z.object({
    html_url: linkUrl("pr"),
    body: z.string().nullish(),
    merged: z.boolean().nullish(),
    merge_commit_sha: commitSha.nullish(),
    number: z.number().int().positive().optional(),
    head: z.object({ ref: z.string(), sha: commitSha.optional(), repo: repository.nullish() }),
  }),
  repository,
  installation,
  review: absent("a pull_request_review"),
  comment: absent("a pull_request_review_comment"),
  thread: absent("a pull_request_review_thread"),
});

export const pushPayload = z.object({
  ref: z.string(),
  deleted: z.boolean().optional(),
  commits: z.array(z.object({ id: commitSha, message: z.string() })),
  repository,
  installation,
});

// A check run's button pressed, or its re-run asked for (docs/contract.md#github-both-ways-the-app-comments-in-replies-and-check-runs-out).
export const checkRunPayload = z.object({
  action: z.string(),
  check_run: z.object({
    id: z.number(),
    external_id: z.string().nullish(),
    app: z.object({ id: z.number(), client_id: z.string().max(100).nullish(), slug: z.string().max(100).nullish() }).nullish(),
  }),
  requested_action: z.object({ identifier: z.string() }).nullish(),
  sender: z.object({ login: z.string().min(1).max(100) }),
  repository,
  installation,
});

/** Any other event: verified and recorded, not read. */
export const otherPayload = z.record(z.string(), z.unknown());
