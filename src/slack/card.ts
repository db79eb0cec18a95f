import { truncate } from "../text";
import type { WorkOrderStatus } from "../workOrders/status";
import { escapeSlackText } from "./text";

/** What a work order's card shows: read from the order when the card is sent, so it is always the latest. */
export type CardView = {
  workOrderId: string;
  title: string;
  status: WorkOrderStatus;
  /** The order's first pull-request links (canonical URLs), oldest first. */
  pullRequests: string[];
  /** Whether the order has more pull requests than those. */
  morePullRequests: boolean;
};

type Mrkdwn = { type: "mrkdwn"; text: string };

/**
 * The Block Kit blocks a card uses. Buttons (Cancel, Retry) are one more
 * block kind (`actions`) rendered from the same view: the outbox only ever
 * carries what `renderCard` returns.
 */
export type CardBlock = { type: "section"; text: Mrkdwn } | { type: "context"; elements: Mrkdwn[] };

/** A card as Slack's chat.postMessage / chat.update take it: `text` is the fallback for notifications. */
export type RenderedCard = { text: string; blocks: CardBlock[] };

/** How many pull requests a card lists; each is its own block, within Block Kit's 3,000 characters. */
export const CARD_PULL_REQUESTS = 5;

const STATUS_LABELS: Record<WorkOrderStatus, string> = {
  draft: ":memo: Draft",
  submitted: ":inbox_tray: Submitted",
  accepted: ":hourglass_flowing_sand: Accepted",
  running: ":gear: Running",
  succeeded: ":white_check_mark: Succeeded",
  failed: ":x: Failed",
  canceled: ":no_entry_sign: Canceled",
};

/** `acme/api#12` for a GitHub pull request, `host/owner/repo#12` elsewhere. */
function pullRequestLabel(url: string): string {
  const match = /^https:\/\/([^/]+)\/([^/]+)\/([^/]+)\/pull\/(\d+)$/.exec(url);
  if (match === null) {
    return truncate(url, 100);
  }
  const [, host, owner, repo, number] = match;
  return truncate(`${host === "github.com" ? "" : `${host}/`}${owner}/${repo}#${number}`, 100);
}

/** A link in Slack's mrkdwn: the URL may not hold `|` or `>`, and `&` is escaped as everywhere. */
function slackLink(url: string, label: string): string {
  const href = url.replaceAll("&", "&amp;").replaceAll("|", "%7C").replaceAll("<", "%3C").replaceAll(">", "%3E");
  return `<${href}|${escapeSlackText(label)}>`;
}

export function renderCard(view: CardView): RenderedCard {
  const title = escapeSlackText(view.title);
  const status = STATUS_LABELS[view.status];
  const more = view.morePullRequests ? " (and more)" : "";
  const text = [
    `Work order ${title}: ${view.status}`,
    ...view.pullRequests.map((url, i) => `PR ${slackLink(url, pullRequestLabel(url))}${i === view.pullRequests.length - 1 ? more : ""}`),
  ].join(" · ");
  const blocks: CardBlock[] = [
    { type: "section", text: { type: "mrkdwn", text: `*${title}*\n${status}` } },
    ...view.pullRequests.map(
      (url): CardBlock => ({ type: "section", text: { type: "mrkdwn", text: `:link: Pull request ${slackLink(url, pullRequestLabel(url))}` } }),
    ),
    {
      type: "context",
      elements: [{ type: "mrkdwn", text: `Work order \`${view.workOrderId}\`${view.morePullRequests ? ` · more pull requests than the ${CARD_PULL_REQUESTS} shown` : ""}` }],
    },
  ];
  return { text, blocks };
}
