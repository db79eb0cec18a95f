import type { z } from "zod";
import { accept, type Check } from "../../check";
import type { Command, WorkOrderSelector } from "../../commands";
import { LIMITS } from "../../limits";
import { truncate } from "../../text";
import { canonicalLinkValue } from "../../workOrders/links";
import { canonicalBranch, canonicalRepo } from "../../workOrders/repos";
import { isRepositoryName } from "../../github/requests";
import type { Settings } from "../source";
import { rowOf, shaped, type Row } from "../table";
import { issueCommentReading, issueMessageCommands, reviewCommentReading, reviewReading } from "./commentEvents";
import { issueCommentPayload, reviewCommentPayload, reviewPayload } from "./commentPayloads";
import { appSlugOf, type CommentReading } from "./comments";
import { checkRunPayload, issuesPayload, otherPayload, pingPayload, pullRequestPayload, pushPayload } from "./payloads";
import { CHECK_RUN_ACTIONS } from "../../github/checkRuns";

// A `Work-Order: <value>` line (key case-insensitive; `$` also ends a line at a CR).
// The value cannot hold the blanks around it, so a failed match backtracks over one
// value only and the pattern runs in linear time on any text.
const MARKER_LINE = /^[ \t]*work-order[ \t]*:[ \t]*(\S+)[ \t]*$/gim;
// A Convex document id: 31 to 37 lower-case letters and digits (`_` too, which the test backend's ids hold).
const WORK_ORDER_ID = /^[0-9a-z_]{31,37}$/;
/** Distinct markers one delivery may follow (docs/contract.md#github-x-github-event, rule 2). */
export const MAX_MARKERS = 20;

/**
 * The `Work-Order:` markers of one delivery (issue and pull-request bodies,
 * commit messages): the first 20 distinct id-shaped values are followed,
 * values of any other shape are ignored, and markers naming further ids are
 * counted, to be recorded once.
 */
export class Markers {
  readonly #followed = new Set<string>();
  #notFollowed = 0;

  /** The orders a text's markers name, among those followed. */
  in(text: string | null | undefined): WorkOrderSelector[] {
    const named = new Set<string>();
    for (const [, value] of (text ?? "").matchAll(MARKER_LINE)) {
      if (!WORK_ORDER_ID.test(value)) {
        continue;
      }
      if (!this.#followed.has(value) && this.#followed.size < MAX_MARKERS) {
        this.#followed.add(value);
      }
      if (this.#followed.has(value)) {
        named.add(value);
      } else {
        this.#notFollowed += 1;
      }
    }
    return [...named].map((workOrderId) => ({ by: "id", workOrderId }));
  }

  /** What the delivery asked for and will not get: the markers past the 20th, once, with their count. */
  skipped(): string[] {
    return this.#notFollowed === 0
      ? []
      : [`${this.#notFollowed} Work-Order marker(s) past the first ${MAX_MARKERS} distinct orders were not followed.`];
  }
}

/** The target a branch of a repository names (rule 1), if the ref is a branch. */
function targetOf(fullName: string | undefined, ref: string): WorkOrderSelector[] {
  if (fullName === undefined || (ref.startsWith("refs/") && !ref.startsWith("refs/heads/"))) {
    return [];
  }
  const targetRepo = canonicalRepo(fullName);
  const targetBranch = canonicalBranch(ref);
  return targetRepo.ok && targetBranch.ok
    ? [{ by: "target", targetRepo: targetRepo.value, targetBranch: targetBranch.value }]
    : [];
}

/** The canonical form of a URL the payload schema already checked. */
function canonicalUrl(kind: "pr" | "github_issue", url: string): string {
  const value = canonicalLinkValue(kind, url);
  if (!value.ok) {
    throw new Error(value.message);
  }
  return value.value;
}

/** What a GitHub event asks for: why nothing is done with it, or its commands, given the delivery's markers. */
export type GithubReading = { ignored: string } | { commands: (markers: Markers) => Command[] };

/**
 * The row of an event this service reads: its payload's schema, and what
 * such a payload asks, given the source's settings (comments are read with
 * GITHUB_APP_SLUG and GITHUB_COMMENT_ASSOCIATIONS).
 */
const githubEvent = <Schema extends z.ZodType>(event: string, payload: Schema, read: (payload: z.output<Schema>, settings: Settings) => GithubReading) =>
  shaped(`The ${event} payload`, payload, (parsed: z.output<Schema>, settings: Settings) => accept(read(parsed, settings)));

/**
 * The App installation a delivery came through (App hooks carry it; a
 * repository's own hooks do not), noted for its repository: the App's
 * requests there are made as the installation its latest delivery named.
 */
function installationNote({ installation, repository }: { installation?: { id: number } | null; repository: { full_name: string } }): Command[] {
  const name = repository.full_name.toLowerCase();
  return installation && isRepositoryName(name) ? [{ type: "noteGithubInstallation", repository: name, installationId: installation.id }] : [];
}

/**
 * The head commit of a pull request an App delivery names: the orders it
 * reaches get their check run on it (a repository's own hooks name no
 * installation, and the App cannot make check runs there).
 */
function headNote(payload: z.output<typeof pullRequestPayload>, workOrders: WorkOrderSelector[]): Command[] {
  const { installation, repository, pull_request: pr } = payload;
  const name = repository.full_name.toLowerCase();
  if (!installation || !isRepositoryName(name) || pr.head.sha === undefined || pr.number === undefined) {
    return [];
  }
  return [{ type: "noteGithubHead", workOrders, repository: name, number: pr.number, headSha: pr.head.sha.toLowerCase() }];
}

/**
 * Whether a check run is this App's, with the App configured
 * (GITHUB_APP_ID): its app's id, or its Client ID when GITHUB_APP_ID holds
 * one (`Iv…`), or its slug (GITHUB_APP_SLUG; GitHub's slugs are unique),
 * which every payload names, with or without a `client_id`.
 */
function isThisApp(app: z.output<typeof checkRunPayload>["check_run"]["app"], settings: Settings): boolean {
  const appId = settings.GITHUB_APP_ID?.trim();
  if (appId === undefined || appId === "" || !app) {
    return false;
  }
  const slug = appSlugOf(settings.GITHUB_APP_SLUG ?? "");
  return String(app.id) === appId || app.client_id === appId || (slug !== null && app.slug?.toLowerCase() === slug);
}

/**
 * A check run's button pressed (`requested_action`), or its re-run asked
 * for (`rerequested`, a Retry): the order its `external_id` names is
 * canceled or retried as the Slack buttons do, by `github:<sender.login>`.
 * Only the check runs this App made are read (GITHUB_APP_ID).
 */
function checkRunReading(payload: z.output<typeof checkRunPayload>, settings: Settings): GithubReading {
  const { action, check_run: checkRun, requested_action: requested, sender } = payload;
  const verb = action === "rerequested" ? "retry" : action === "requested_action" ? requested?.identifier : undefined;
  if (verb === undefined) {
    return { ignored: truncate(`GitHub's check_run ${action} is not acted on.`, LIMITS.reasonChars) };
  }
  if (!isThisApp(checkRun.app, settings)) {
    return { ignored: `Check run ${checkRun.id} is not this App's (GITHUB_APP_ID, GITHUB_APP_SLUG).` };
  }
  const workOrderId = checkRun.external_id ?? "";
  if (!WORK_ORDER_ID.test(workOrderId)) {
    return { ignored: `Check run ${checkRun.id} shows no work order (its external_id is not an order id).` };
  }
  if (verb !== CHECK_RUN_ACTIONS.cancel.identifier && verb !== CHECK_RUN_ACTIONS.retry.identifier) {
    return { ignored: truncate(`The check run action ${JSON.stringify(verb.slice(0, 20))} is not one of Jangar's (cancel, retry).`, LIMITS.reasonChars) };
  }
  const by = { userId: `github:${sender.login}`, answer: { via: "github" as const } };
  return {
    commands: () => [...installationNote(payload), { type: verb === "cancel" ? "cancelWorkOrder" : "retryWorkOrder", workOrderId, by }],
  };
}

/** A comment event's row: ignored on receipt when it is not for Jangar, with the reason (docs/contract.md#github-both-ways-the-app-comments-in-replies-and-check-runs-out). */
function commentEvent<Schema extends z.ZodType<Parameters<typeof installationNote>[0]>>(
  event: string,
  payload: Schema,
  reading: (payload: z.output<Schema>, settings: Settings) => CommentReading,
) {
  return githubEvent(event, payload, (parsed, settings): GithubReading => {
    const outcome = reading(parsed, settings);
    return "ignored" in outcome ? outcome : { commands: () => [...installationNote(parsed), ...outcome.commands] };
  });
}

/**
 * The events GitHub sends that this service reads (X-GitHub-Event), and
 * their effects: the table of docs/contract.md#github-x-github-event, as
 * commands. Any other event is verified, recorded and ignored.
 */
export const GITHUB_EVENTS = {
  ping: githubEvent("ping", pingPayload, () => ({ commands: () => [] })),

  issues: githubEvent("issues", issuesPayload, (payload, settings) => ({
    commands: (markers) => {
      const { issue } = payload;
      // An issues event about a pull request links the pull request as `pr`.
      const kind = canonicalLinkValue("github_issue", issue.html_url).ok ? "github_issue" : "pr";
      const url = canonicalUrl(kind, issue.html_url);
      const workOrders: WorkOrderSelector[] = [...markers.in(issue.body), { by: "link", kind, value: url }];
      return [...installationNote(payload), { type: "addLink", workOrders, link: { kind, value: url } }, ...issueMessageCommands(payload, settings)];
    },
  })),

  pull_request: githubEvent("pull_request", pullRequestPayload, (payload) => ({
    commands: (markers) => {
      const { action, pull_request: pr } = payload;
      const url = canonicalUrl("pr", pr.html_url);
      const workOrders: WorkOrderSelector[] = [
        ...targetOf(pr.head.repo?.full_name, pr.head.ref),
        ...markers.in(pr.body),
        { by: "link", kind: "pr", value: url },
      ];
      const commands: Command[] = [...installationNote(payload), ...headNote(payload, workOrders), { type: "addLink", workOrders, link: { kind: "pr", value: url } }];
      if (action === "closed" && pr.merged === true) {
        if (pr.merge_commit_sha) {
          commands.push({ type: "addLink", workOrders, link: { kind: "commit", value: pr.merge_commit_sha.toLowerCase() } });
        }
        // A draft is linked to the merge but not moved: it was never submitted (docs/contract.md#hardening-rules).
        commands.push({
          type: "changeStatus",
          workOrders,
          to: "succeeded",
          reason: truncate(`pull request merged: ${url}`, LIMITS.reasonChars),
          leavesDrafts: true,
        });
      }
      return commands;
    },
  })),

  push: githubEvent("push", pushPayload, (payload) => {
    const { deleted, ref, commits, repository } = payload;
    if (deleted === true) {
      return { ignored: truncate(`The push deletes ${ref}.`, LIMITS.reasonChars) };
    }
    return {
      commands: (markers) => {
        const target = targetOf(repository.full_name, ref);
        return [
          ...installationNote(payload),
          ...commits.map(
            (commit): Command => ({
              type: "addLink",
              workOrders: [...target, ...markers.in(commit.message)],
              link: { kind: "commit", value: commit.id.toLowerCase() },
            }),
          ),
        ];
      },
    };
  }),

  issue_comment: commentEvent("issue_comment", issueCommentPayload, issueCommentReading),
  pull_request_review_comment: commentEvent("pull_request_review_comment", reviewCommentPayload, reviewCommentReading),
  pull_request_review: commentEvent("pull_request_review", reviewPayload, reviewReading),
  check_run: githubEvent("check_run", checkRunPayload, checkRunReading),
} satisfies Record<string, Row<Settings, GithubReading>>;

/** Reads a payload as the event X-GitHub-Event names, with that event's schema (one parse); refused when not of its shape. */
export function readGithubEvent(event: string, payload: unknown, settings: Settings): Check<GithubReading> {
  // Any other event: verified and recorded, not read.
  const row = rowOf<Row<Settings, GithubReading>>(GITHUB_EVENTS, event) ?? githubEvent(event, otherPayload, () => ({ ignored: `GitHub's ${event} event is not acted on.` }));
  return row(payload, settings);
}
