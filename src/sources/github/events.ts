import type { Command, Interpretation, WorkOrderSelector } from "../../commands";
import { accept, reject, type Check } from "../../check";
import { LIMITS } from "../../limits";
import { truncate } from "../../text";
import { canonicalLinkValue } from "../../workOrders/links";
import { canonicalBranch, canonicalRepo } from "../../workOrders/repos";
import { summarizeIssues } from "../zodIssues";
import {
  issuesPayload,
  otherPayload,
  pingPayload,
  pullRequestPayload,
  pushPayload,
  type IssuesPayload,
  type PullRequestPayload,
  type PushPayload,
} from "./payloads";

export type GithubEvent =
  | { name: "ping" }
  | { name: "issues"; payload: IssuesPayload }
  | { name: "pull_request"; payload: PullRequestPayload }
  | { name: "push"; payload: PushPayload }
  | { name: "other"; eventName: string };

/** Checks a payload against the shape of its event (X-GitHub-Event). */
export function readGithubEvent(eventName: string, payload: unknown): Check<GithubEvent> {
  const parsed = (() => {
    switch (eventName) {
      case "ping":
        return pingPayload.safeParse(payload);
      case "issues":
        return issuesPayload.safeParse(payload);
      case "pull_request":
        return pullRequestPayload.safeParse(payload);
      case "push":
        return pushPayload.safeParse(payload);
      default:
        return otherPayload.safeParse(payload);
    }
  })();
  if (!parsed.success) {
    return reject(`The ${eventName} payload is not of the expected shape: ${summarizeIssues(parsed.error)}`);
  }
  switch (eventName) {
    case "ping":
      return accept({ name: "ping" });
    case "issues":
      return accept({ name: "issues", payload: parsed.data as IssuesPayload });
    case "pull_request":
      return accept({ name: "pull_request", payload: parsed.data as PullRequestPayload });
    case "push":
      return accept({ name: "push", payload: parsed.data as PushPayload });
    default:
      return accept({ name: "other", eventName });
  }
}

/** Why nothing here acts on the event, or null when something does. */
export function ignoredReason(event: GithubEvent): string | null {
  if (event.name === "other") {
    return `GitHub's ${event.eventName} event is not acted on.`;
  }
  if (event.name === "push" && event.payload.deleted === true) {
    return truncate(`The push deletes ${event.payload.ref}.`, LIMITS.reasonChars);
  }
  return null;
}

// A `Work-Order: <value>` line (key case-insensitive; `$` also ends a line at a CR).
// The value cannot hold the blanks around it, so a failed match backtracks over one
// value only and the pattern runs in linear time on any text.
const MARKER_LINE = /^[ \t]*work-order[ \t]*:[ \t]*(\S+)[ \t]*$/gim;
// A Convex document id: 31 to 37 lower-case letters and digits (`_` too, which the test backend's ids hold).
const WORK_ORDER_ID = /^[0-9a-z_]{31,37}$/;
/** Distinct markers one delivery may follow (docs/contract.md section 4, rule 2). */
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

/** The contract's effects table (docs/contract.md section 4, GitHub) as commands, with the markers not followed. */
export function githubInterpretation(event: GithubEvent): Interpretation {
  const markers = new Markers();
  const commands = githubCommands(event, markers);
  const skipped = markers.skipped();
  return skipped.length > 0 ? { kind: "commands", commands, skipped } : { kind: "commands", commands };
}

function githubCommands(event: GithubEvent, markers: Markers): Command[] {
  switch (event.name) {
    case "issues": {
      const { issue } = event.payload;
      // An issues event about a pull request links the pull request as `pr`.
      const kind = canonicalLinkValue("github_issue", issue.html_url).ok ? "github_issue" : "pr";
      const url = canonicalUrl(kind, issue.html_url);
      const workOrders: WorkOrderSelector[] = [
        ...markers.in(issue.body),
        { by: "link", kind, value: url },
      ];
      return [{ type: "addLink", workOrders, link: { kind, value: url } }];
    }
    case "pull_request": {
      const { action, pull_request: pr } = event.payload;
      const url = canonicalUrl("pr", pr.html_url);
      const workOrders: WorkOrderSelector[] = [
        ...targetOf(pr.head.repo?.full_name, pr.head.ref),
        ...markers.in(pr.body),
        { by: "link", kind: "pr", value: url },
      ];
      const commands: Command[] = [{ type: "addLink", workOrders, link: { kind: "pr", value: url } }];
      if (action === "closed" && pr.merged === true) {
        if (pr.merge_commit_sha) {
          commands.push({ type: "addLink", workOrders, link: { kind: "commit", value: pr.merge_commit_sha.toLowerCase() } });
        }
        commands.push({
          type: "changeStatus",
          workOrders,
          to: "succeeded",
          reason: truncate(`pull request merged: ${url}`, LIMITS.reasonChars),
        });
      }
      return commands;
    }
    case "push": {
      const { ref, commits, repository } = event.payload;
      const target = targetOf(repository.full_name, ref);
      return commits.map((commit) => ({
        type: "addLink" as const,
        workOrders: [...target, ...markers.in(commit.message)],
        link: { kind: "commit" as const, value: commit.id.toLowerCase() },
      }));
    }
    default:
      return [];
  }
}
