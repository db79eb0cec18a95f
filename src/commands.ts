// convex/values is Convex's value encoding, not its runtime: commands travel between functions, so their validator is their type.
import { literals } from "convex-helpers/validators";
import { v, type Infer } from "convex/values";
import { vChatRole } from "./chat/roles";
import { vLinkKind, vSelectableLinkKind } from "./workOrders/links";
import { vWorkOrderStatus } from "./workOrders/status";

/**
 * How a command names the work orders it concerns (docs/contract.md#github-x-github-event):
 * - `id`: a work order id given by the sender (a `Work-Order:` marker, an
 *   event's `workOrderId`); it counts only if such an order exists;
 * - `target`: every order, not yet in a final status, whose target is this
 *   canonical repository and branch;
 * - `link`: every order already linked to this canonical issue or pull request.
 */
export const vWorkOrderSelector = v.union(
  v.object({ by: v.literal("id"), workOrderId: v.string() }),
  v.object({ by: v.literal("target"), targetRepo: v.string(), targetBranch: v.string() }),
  v.object({ by: v.literal("link"), kind: vLinkKind, value: v.string() }),
);
export type WorkOrderSelector = Infer<typeof vWorkOrderSelector>;

/** A selector as a delivery's notes name it: `work order <id>`, `work orders targeting <repo>:<branch>`, ... */
export function describeSelector(selector: WorkOrderSelector): string {
  switch (selector.by) {
    case "id":
      return `work order ${selector.workOrderId}`;
    case "target":
      return `work orders targeting ${selector.targetRepo}:${selector.targetBranch}`;
    case "link":
      return `work orders linked to ${selector.kind} ${selector.value}`;
  }
}

/** A Slack thread: the channel and the `ts` of its first message. */
export const vSlackThread = v.object({ team: v.string(), channel: v.string(), threadTs: v.string() });
export type SlackThread = Infer<typeof vSlackThread>;

/**
 * A GitHub thread: an issue or pull request, `owner/repo#number`, the
 * repository in lower case (GitHub's names are case-insensitive).
 */
export const vGithubThread = v.object({ repository: v.string(), number: v.number() });
export type GithubThread = Infer<typeof vGithubThread>;

/** A chat message as a sender delivers it; `externalId` names it at the sender, once. */
export const vInboundMessage = v.object({
  externalId: v.string(),
  role: vChatRole,
  content: v.string(),
  metadata: v.optional(v.any()),
});
export type InboundMessage = Infer<typeof vInboundMessage>;

/**
 * How a person acting from Slack is answered, them alone: with an ephemeral
 * message in the channel and thread they clicked in (through the outbox), or
 * with the request's own reply (a slash command's answer). A person pressing
 * a check run's button on GitHub (`github`) is not answered (GitHub has no
 * answer for one person): what is refused is recorded on the delivery; and
 * GitHub decided they may act, as it shows the buttons only to those who may.
 */
export const vAnswer = v.union(
  v.object({ via: v.literal("ephemeral"), team: v.string(), channel: v.string(), threadTs: v.string(), user: v.string() }),
  v.object({ via: v.literal("reply") }),
  v.object({ via: v.literal("github") }),
);
export type Answer = Infer<typeof vAnswer>;

/** A person asking something of work orders: their user id (`slack:<team>:<user>`, `github:<login>`) and how to answer them. */
export const vPerson = v.object({ userId: v.string(), answer: vAnswer });
export type Person = Infer<typeof vPerson>;

/**
 * What a verified delivery asks of the data, as plain values. Mappers in
 * src/sources/ produce commands; convex/model/effects/applyCommands.ts executes them through
 * the same helpers as the public functions, with one handler per type.
 */
export const vCommand = v.union(
  v.object({
    type: v.literal("addLink"),
    workOrders: v.array(vWorkOrderSelector),
    link: v.object({ kind: vLinkKind, value: v.string() }),
  }),
  v.object({
    type: v.literal("changeStatus"),
    workOrders: v.array(vWorkOrderSelector),
    to: vWorkOrderStatus,
    reason: v.optional(v.string()),
    /** Drafts are left as they are, with the reason (a merged pull request never moves one). */
    leavesDrafts: v.optional(v.literal(true)),
  }),
  /** Append to an existing session (the events endpoint's chat.message.created). */
  v.object({ type: v.literal("appendMessage"), sessionId: v.string(), message: vInboundMessage }),
  /** An app mention: continue the thread's session, or start one bound to the thread. */
  v.object({
    type: v.literal("startSlackThread"),
    thread: vSlackThread,
    userId: v.string(),
    title: v.string(),
    message: vInboundMessage,
  }),
  /** A message in a thread: appended only when the thread is bound to a session. */
  v.object({ type: v.literal("appendSlackMessage"), thread: vSlackThread, message: vInboundMessage }),
  /**
   * A comment for Jangar on a GitHub thread: appended to the thread's
   * session; a thread not yet bound is bound to the session of the order
   * linked to its issue or pull request (`link`), else to a new session.
   */
  v.object({
    type: v.literal("appendGithubComment"),
    thread: vGithubThread,
    link: v.object({ kind: vSelectableLinkKind, value: v.string() }),
    userId: v.string(),
    title: v.string(),
    message: vInboundMessage,
    /** What the `eyes` reaction goes on once the comment is appended (none for a review: GitHub has no reactions on reviews). */
    reaction: v.optional(v.object({ subject: literals("issue_comment", "review_comment", "issue"), id: v.number() })),
  }),
  /** The head commit of the pull request a `pull_request` delivery named: the orders it reaches get their check run on it. */
  v.object({
    type: v.literal("noteGithubHead"),
    workOrders: v.array(vWorkOrderSelector),
    repository: v.string(),
    number: v.number(),
    headSha: v.string(),
  }),
  /** The App installation a delivery came through, for its repository: the App's requests there are made as it. */
  v.object({ type: v.literal("noteGithubInstallation"), repository: v.string(), installationId: v.number() }),
  /** `version` orders edits of one message (sortable as text): an older edit never overwrites a newer one. */
  v.object({ type: v.literal("editMessage"), externalId: v.string(), content: v.string(), version: v.string() }),
  v.object({ type: v.literal("removeMessage"), externalId: v.string() }),
  /** Cancel an order, for a person who requested it or owns its session; anyone else is told why not. */
  v.object({ type: v.literal("cancelWorkOrder"), workOrderId: v.string(), by: vPerson }),
  /** A new order copying a failed one (same session, workflow type, prompt, args and target), once. */
  v.object({ type: v.literal("retryWorkOrder"), workOrderId: v.string(), by: vPerson }),
  /** Tell the person the orders they requested, most recently updated first. */
  v.object({ type: v.literal("listWorkOrders"), by: vPerson }),
  /** Tell the person one order they may see. */
  v.object({ type: v.literal("showWorkOrder"), workOrderId: v.string(), by: vPerson }),
);
export type Command = Infer<typeof vCommand>;

/**
 * What a source makes of a verified payload: commands to apply (with notes
 * on what it chose not to ask for, kept with the delivery's skipped
 * effects), or why it does nothing with it.
 */
export const vInterpretation = v.union(
  v.object({ kind: v.literal("commands"), commands: v.array(vCommand), skipped: v.optional(v.array(v.string())) }),
  v.object({ kind: v.literal("ignored"), reason: v.string() }),
);
export type Interpretation = Infer<typeof vInterpretation>;
