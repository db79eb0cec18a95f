import { truncate } from "../text";
import type { WorkOrderStatus } from "../workOrders/status";
import { pullRequestText, STATUS_LABELS } from "./card";
import { escapeSlackText } from "./text";

/*
 * What a person acting from Slack is told (docs/contract.md section 4,
 * interactivity), as Slack mrkdwn: every value that came from a caller or a
 * sender is cut and escaped here, so an answer stays short and shows text as
 * written.
 */

const TITLE_CHARS = 80;
const ID_CHARS = 64;
// A pull request longer than this is shown by its label, so that ten orders stay one short answer.
const LINK_CHARS = 300;

/** An order as an answer shows it. */
export type OrderLine = { workOrderId: string; title: string; status: WorkOrderStatus; pullRequest?: string; retriedAs?: string };

const code = (id: string) => `\`${escapeSlackText(truncate(id, ID_CHARS))}\``;

/** The order's title, bold. */
export function titleOf(title: string): string {
  return `*${escapeSlackText(truncate(title, TITLE_CHARS))}*`;
}

/** `*title* · :gear: Running · PR acme/api#12 · `id``. */
export function orderLine(order: OrderLine): string {
  return [
    titleOf(order.title),
    STATUS_LABELS[order.status],
    ...(order.pullRequest === undefined ? [] : [pullRequestText("PR ", order.pullRequest, LINK_CHARS)]),
    ...(order.retriedAs === undefined ? [] : [`retried as ${code(order.retriedAs)}`]),
    code(order.workOrderId),
  ].join(" · ");
}

/** The answer to `status`: the person's orders, most recently updated first. */
export function orderList(orders: OrderLine[]): string {
  if (orders.length === 0) {
    return "You have not requested any work orders.";
  }
  return [`Your ${orders.length === 1 ? "work order" : `${orders.length} most recently updated work orders`}:`, ...orders.map((order) => `• ${orderLine(order)}`)].join("\n");
}

export const ANSWERS = {
  notFound: (workOrderId: string) => `No work order ${code(workOrderId)} that you may see.`,
  notYours: (title: string, verb: "cancel" | "retry") =>
    `Only the person who requested ${titleOf(title)} or owns its session may ${verb} it.`,
  canceled: (title: string) => `Canceled ${titleOf(title)}.`,
  alreadyCanceled: (title: string) => `${titleOf(title)} is already canceled.`,
  notCanceled: (title: string, why: string) => `${titleOf(title)} was not canceled: ${escapeSlackText(why)}`,
  notFailed: (title: string, status: WorkOrderStatus) =>
    `Only a failed work order can be retried; ${titleOf(title)} is ${status}.`,
  alreadyRetried: (title: string, retryId: string) => `${titleOf(title)} was already retried as ${code(retryId)}.`,
  notRetried: (title: string, why: string) => `${titleOf(title)} was not retried: ${escapeSlackText(why)}`,
  retried: (title: string, retryId: string) => `Retried ${titleOf(title)} as ${code(retryId)}.`,
} as const;
