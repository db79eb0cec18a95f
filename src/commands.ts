import type { ChatRole } from "./chat/roles";
import type { LinkKind } from "./workOrders/links";
import type { WorkOrderStatus } from "./workOrders/status";

/**
 * How a command names the work orders it concerns (docs/contract.md section 4):
 * - `id`: a work order id given by the sender (a `Work-Order:` marker, an
 *   event's `workOrderId`); it counts only if such an order exists;
 * - `target`: every order, not yet in a final status, whose target is this
 *   canonical repository and branch;
 * - `link`: every order already linked to this canonical issue or pull request.
 */
export type WorkOrderSelector =
  | { by: "id"; workOrderId: string }
  | { by: "target"; targetRepo: string; targetBranch: string }
  | { by: "link"; kind: LinkKind; value: string };

/** A Slack thread: the channel and the `ts` of its first message. */
export type SlackThread = { team: string; channel: string; threadTs: string };

/** A chat message as a sender delivers it; `externalId` names it at the sender, once. */
export type InboundMessage = {
  externalId: string;
  role: ChatRole;
  content: string;
  metadata?: unknown;
};

/**
 * How a person acting from Slack is answered, them alone: with an ephemeral
 * message in the channel and thread they clicked in (through the outbox), or
 * with the request's own reply (a slash command's answer).
 */
export type Answer = { via: "ephemeral"; team: string; channel: string; threadTs: string; user: string } | { via: "reply" };

/** A person asking something of work orders: their user id (`slack:<team>:<user>`) and how to answer them. */
export type Person = { userId: string; answer: Answer };

/**
 * What a verified delivery asks of the data, as plain values. Mappers in
 * src/sources/ produce commands; convex/model/apply.ts executes them through
 * the same helpers as the public functions.
 */
export type Command =
  | {
      type: "addLink";
      workOrders: WorkOrderSelector[];
      link: { kind: LinkKind; value: string };
    }
  | {
      type: "changeStatus";
      workOrders: WorkOrderSelector[];
      to: WorkOrderStatus;
      reason?: string;
    }
  | {
      /** Append to an existing session (the events endpoint's chat.message.created). */
      type: "appendMessage";
      sessionId: string;
      message: InboundMessage;
    }
  | {
      /** An app mention: continue the thread's session, or start one bound to the thread. */
      type: "startSlackThread";
      thread: SlackThread;
      userId: string;
      title: string;
      message: InboundMessage;
    }
  | {
      /** A message in a thread: appended only when the thread is bound to a session. */
      type: "appendSlackMessage";
      thread: SlackThread;
      message: InboundMessage;
    }
  | {
      type: "editMessage";
      externalId: string;
      content: string;
      /** Orders edits of one message (sortable as text): an older edit never overwrites a newer one. */
      version: string;
    }
  | { type: "removeMessage"; externalId: string }
  | {
      /** Cancel an order, for a person who requested it or owns its session; anyone else is told why not. */
      type: "cancelWorkOrder";
      workOrderId: string;
      by: Person;
    }
  | {
      /** A new order copying a failed one (same session, workflow type, prompt, args and target), once. */
      type: "retryWorkOrder";
      workOrderId: string;
      by: Person;
    }
  | {
      /** Tell the person the orders they requested, most recently updated first. */
      type: "listWorkOrders";
      by: Person;
    }
  | {
      /** Tell the person one order they may see. */
      type: "showWorkOrder";
      workOrderId: string;
      by: Person;
    };

/**
 * What a source makes of a verified payload: commands to apply (with notes
 * on what it chose not to ask for, kept with the delivery's skipped
 * effects), or why it does nothing with it.
 */
export type Interpretation =
  | { kind: "commands"; commands: Command[]; skipped?: string[] }
  | { kind: "ignored"; reason: string };
