import { truncate } from "../text";
import type { WorkOrderStatus } from "../workOrders/status";
import { pullRequestLabel, pullRequestText, STATUS_LABELS } from "./card";
import { literalSlackText, literalWithin, SLACK_MESSAGE_CHARS } from "./text";

/*
 * What a person acting from Slack is told
 * (docs/contract.md#slack-interactivity-cancel-and-retry-on-the-card-and-a-slash-command),
 * as Slack mrkdwn: every value that came from a caller or a sender is cut
 * and shown literally here (literalSlackText), and every
 * answer fits one Slack message (SLACK_MESSAGE_CHARS) as sent.
 */

// Of a title as written; escaped, it may grow up to five times (`&` is `&amp;`).
const TITLE_CHARS = 80;
// As sent: an id, a pull request link, a reason.
const ID_CHARS = 64;
const LINK_CHARS = 300;
const WHY_CHARS = 1_000;

/** An order as an answer shows it. */
export type OrderLine = { workOrderId: string; title: string; status: WorkOrderStatus; pullRequest?: string; retriedAs?: string };

const code = (id: string) => `\`${literalWithin(id, ID_CHARS)}\``;

/** The order's title, bold. */
export function titleOf(title: string): string {
  return `*${literalSlackText(truncate(title, TITLE_CHARS))}*`;
}

/**
 * `*title* · :gear: Running · PR acme/api#12 · `id``, in at most `maxChars`
 * characters as sent: past them the pull request is shown by its label
 * (no link), then the title is shortened, then the label left out. What is
 * left (status, ids: at most ~170 characters) always fits a list's share.
 */
export function orderLine(order: OrderLine, maxChars: number = SLACK_MESSAGE_CHARS): string {
  const after = [...(order.retriedAs === undefined ? [] : [`retried as ${code(order.retriedAs)}`]), code(order.workOrderId)];
  const line = (title: string, pullRequest: string | null) =>
    [title, STATUS_LABELS[order.status], ...(pullRequest === null ? [] : [pullRequest]), ...after].join(" · ");
  const label = order.pullRequest === undefined ? null : `PR ${literalSlackText(pullRequestLabel(order.pullRequest))}`;
  const linked = order.pullRequest === undefined ? null : pullRequestText("PR ", order.pullRequest, LINK_CHARS);
  for (const pullRequest of [linked, label]) {
    const text = line(titleOf(order.title), pullRequest);
    if (text.length <= maxChars) {
      return text;
    }
  }
  for (const pullRequest of [label, null]) {
    const room = maxChars - line("**", pullRequest).length;
    if (room >= 1) {
      return line(`*${literalWithin(order.title, room)}*`, pullRequest);
    }
  }
  return line("*…*", null);
}

/**
 * The answer to `status`: the person's orders, most recently updated first,
 * within `maxChars`. Short lines are laid out first and whatever room they
 * leave is shared among the longer ones, which shorten as orderLine says.
 */
export function orderList(orders: OrderLine[], maxChars: number = SLACK_MESSAGE_CHARS): string {
  if (orders.length === 0) {
    return "You have not requested any work orders.";
  }
  const header = `Your ${orders.length === 1 ? "work order" : `${orders.length} most recently updated work orders`}:`;
  const bullet = "\n• ";
  const lines: string[] = [];
  let room = maxChars - header.length;
  let left = orders.length;
  const shortestFirst = orders
    .map((order, i) => ({ i, length: orderLine(order, Infinity).length }))
    .sort((a, b) => a.length - b.length);
  for (const { i } of shortestFirst) {
    lines[i] = orderLine(orders[i], Math.floor(room / left) - bullet.length);
    room -= bullet.length + lines[i].length;
    left -= 1;
  }
  return [header, ...lines].join(bullet);
}

const why = (reason: string) => literalWithin(reason, WHY_CHARS);

/** Each answer is at most ~1,500 characters as sent: a title (400 escaped), a reason (1,000), an id (66). */
export const ANSWERS = {
  notFound: (workOrderId: string) => `No work order ${code(workOrderId)} that you may see.`,
  notYours: (title: string, verb: "cancel" | "retry") =>
    `Only the person who requested ${titleOf(title)} or owns its session may ${verb} it.`,
  canceled: (title: string) => `Canceled ${titleOf(title)}.`,
  alreadyCanceled: (title: string) => `${titleOf(title)} is already canceled.`,
  notCanceled: (title: string, reason: string) => `${titleOf(title)} was not canceled: ${why(reason)}`,
  notFailed: (title: string, status: WorkOrderStatus) =>
    `Only a failed work order can be retried; ${titleOf(title)} is ${status}.`,
  alreadyRetried: (title: string, retryId: string) => `${titleOf(title)} was already retried as ${code(retryId)}.`,
  notRetried: (title: string, reason: string) => `${titleOf(title)} was not retried: ${why(reason)}`,
  retried: (title: string, retryId: string) => `Retried ${titleOf(title)} as ${code(retryId)}.`,
  paused: () => "Processing of Slack requests is paused by an operator. Your command is stored, and will be carried out once it is resumed.",
} as const;
