import { truncate } from "../text";
import { isTerminal, type WorkOrderStatus } from "../workOrders/status";
import { literalSlackText, SLACK_MESSAGE_CHARS } from "./text";

/** What a work order's card shows: read from the order when the card is sent, so it is always the latest. */
export type CardView = {
  workOrderId: string;
  title: string;
  status: WorkOrderStatus;
  /** The order's first pull-request links (canonical URLs), oldest first. */
  pullRequests: string[];
  /** Whether the order has more pull requests than those. */
  morePullRequests: boolean;
  /** The order made to run a failed one again from its card, once it exists. */
  retriedAs?: string;
  /** Whether canceling asks the order's Temporal workflow to stop (the deployment talks to Temporal), as the confirmation says. */
  cancelStopsWorkflow?: boolean;
};

type Mrkdwn = { type: "mrkdwn"; text: string };

type PlainText = { type: "plain_text"; text: string };

/** The card's buttons, by the action_id a click on each sends (src/sources/slack/interactions.ts reads them). */
export type CardActionId = "work_order.cancel" | "work_order.retry";

/** A button of the card: its action_id names what a click asks for, its value the order (docs/contract.md#slack-interactivity-cancel-and-retry-on-the-card-and-a-slash-command). */
export type CardButton = {
  type: "button";
  text: PlainText;
  action_id: CardActionId;
  value: string;
  style: "danger" | "primary";
  confirm?: { title: PlainText; text: PlainText; confirm: PlainText; deny: PlainText };
};

/** The Block Kit blocks a card uses: rendered from the order when sent, so the buttons follow its status. */
export type CardBlock =
  | { type: "section"; text: Mrkdwn }
  | { type: "context"; elements: Mrkdwn[] }
  | { type: "actions"; elements: CardButton[] };

/** A card as Slack's chat.postMessage / chat.update take it: `text` is the fallback for notifications. */
export type RenderedCard = { text: string; blocks: CardBlock[] };

/** How many pull requests a card lists; each is its own block. */
export const CARD_PULL_REQUESTS = 5;

/**
 * Block Kit's bounds, counted as sent (after escaping, which can make text
 * five times longer): a section's or context element's text holds at most
 * 3,000 characters, a message at most 50 blocks. Slack refuses a card past
 * them for good (`invalid_blocks`), so every field is bounded when rendered.
 */
export const BLOCK_TEXT_CHARS = 3_000;
export const MAX_BLOCKS = 50;

// The most of a title a card shows (the title's own limit), and of a label or an id.
const TITLE_CHARS = 200;
const LABEL_CHARS = 100;

export const STATUS_LABELS: Record<WorkOrderStatus, string> = {
  draft: ":memo: Draft",
  submitted: ":inbox_tray: Submitted",
  accepted: ":hourglass_flowing_sand: Accepted",
  running: ":gear: Running",
  succeeded: ":white_check_mark: Succeeded",
  failed: ":x: Failed",
  canceled: ":no_entry_sign: Canceled",
};

/** `acme/api#12` for a GitHub pull request, `host/owner/repo#12` elsewhere. */
export function pullRequestLabel(url: string): string {
  const match = /^https:\/\/([^/]+)\/([^/]+)\/([^/]+)\/pull\/(\d+)$/.exec(url);
  if (match === null) {
    return truncate(url, LABEL_CHARS);
  }
  const [, host, owner, repo, number] = match;
  return truncate(`${host === "github.com" ? "" : `${host}/`}${owner}/${repo}#${number}`, LABEL_CHARS);
}

/** A link in Slack's mrkdwn: the URL may not hold `|` or `>`, and `&` is escaped as everywhere; the label shows literally. */
function slackLink(url: string, label: string): string {
  const href = url.replaceAll("&", "&amp;").replaceAll("|", "%7C").replaceAll("<", "%3C").replaceAll(">", "%3E");
  return `<${href}|${literalSlackText(label)}>`;
}

/**
 * A pull request as `prefix` and its link, or as its label alone (no link)
 * when the link would take the text past `maxChars`. The label alone always
 * fits: it is at most LABEL_CHARS characters before escaping.
 */
export function pullRequestText(prefix: string, url: string, maxChars: number): string {
  const label = pullRequestLabel(url);
  const linked = `${prefix}${slackLink(url, label)}`;
  return linked.length <= maxChars ? linked : `${prefix}${literalSlackText(label)}`;
}

const plain = (text: string): PlainText => ({ type: "plain_text", text });

/** Cancel while the order is not final; Retry once it failed, until it has been retried. */
function buttonsOf(view: CardView): CardButton[] {
  // Button values hold at most 2,000 characters; an order id is far shorter, so a longer one is no order.
  const value = truncate(view.workOrderId, 2000);
  const buttons: CardButton[] = [];
  if (!isTerminal(view.status)) {
    buttons.push({
      type: "button",
      text: plain("Cancel"),
      action_id: "work_order.cancel",
      value,
      style: "danger",
      confirm: {
        title: plain("Cancel this work order?"),
        text: plain(
          `${truncate(view.title, LABEL_CHARS)} is marked canceled${view.cancelStopsWorkflow === true ? ", and its workflow is asked to stop" : ""}.`,
        ),
        confirm: plain("Cancel it"),
        deny: plain("Keep it"),
      },
    });
  }
  if (view.status === "failed" && view.retriedAs === undefined) {
    buttons.push({ type: "button", text: plain("Retry"), action_id: "work_order.retry", value, style: "primary" });
  }
  return buttons;
}

export function renderCard(view: CardView): RenderedCard {
  const title = literalSlackText(truncate(view.title, TITLE_CHARS));
  const status = STATUS_LABELS[view.status];
  const pullRequests = view.pullRequests.slice(0, CARD_PULL_REQUESTS);
  const more = view.morePullRequests ? " (and more)" : "";
  const retried = view.retriedAs === undefined ? "" : `, retried as ${literalSlackText(truncate(view.retriedAs, LABEL_CHARS))}`;
  const fallback = (linked: boolean) =>
    [
      `Work order ${title}: ${view.status}${retried}`,
      ...pullRequests.map(
        (url, i) =>
          `${linked ? pullRequestText("PR ", url, BLOCK_TEXT_CHARS) : `PR ${literalSlackText(pullRequestLabel(url))}`}${i === pullRequests.length - 1 ? more : ""}`,
      ),
    ].join(" · ");
  // The notification text stays within one Slack message; past it, pull requests are shown by label.
  const linkedText = fallback(true);
  const text = linkedText.length <= SLACK_MESSAGE_CHARS ? linkedText : fallback(false);
  const blocks: CardBlock[] = [
    { type: "section", text: { type: "mrkdwn", text: `*${title}*\n${status}` } },
    ...pullRequests.map(
      (url): CardBlock => ({ type: "section", text: { type: "mrkdwn", text: pullRequestText(":link: Pull request ", url, BLOCK_TEXT_CHARS) } }),
    ),
    {
      type: "context",
      elements: [
        {
          type: "mrkdwn",
          text: [
            `Work order \`${literalSlackText(truncate(view.workOrderId, LABEL_CHARS))}\``,
            ...(view.morePullRequests ? [`more pull requests than the ${CARD_PULL_REQUESTS} shown`] : []),
            ...(view.retriedAs === undefined ? [] : [`:repeat: retried as \`${literalSlackText(truncate(view.retriedAs, LABEL_CHARS))}\``]),
          ].join(" · "),
        },
      ],
    },
  ];
  const buttons = buttonsOf(view);
  if (buttons.length > 0) {
    blocks.push({ type: "actions", elements: buttons });
  }
  return { text, blocks };
}
