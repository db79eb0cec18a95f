import type { Command, Person } from "../../commands";
import { accept, reject, type Check } from "../../check";
import type { CardActionId } from "../../slack/card";
import { truncate } from "../../text";
import { blockActions, type BlockActions } from "./payloads";
import { rowOf, shaped, type Row } from "../table";
import type { SlackEventReading } from "./events";

/** The card's buttons (docs/contract.md#slack-interactivity-cancel-and-retry-on-the-card-and-a-slash-command), by action_id: what a click on each asks for; one row per button. */
const CARD_ACTIONS = {
  "work_order.cancel": (workOrderId, by) => ({ type: "cancelWorkOrder", workOrderId, by }),
  "work_order.retry": (workOrderId, by) => ({ type: "retryWorkOrder", workOrderId, by }),
} satisfies Record<CardActionId, (workOrderId: string, by: Person) => Command>;

/**
 * The person who clicked, answered alone in the clicked message's channel
 * and thread. An Enterprise Grid org-wide install sends `team: null`; the
 * user's own `team_id` names the workspace then (docs/contract.md#hardening-rules).
 */
function clicker(click: BlockActions, team: string): Person {
  const { user, container, message } = click;
  return {
    userId: `slack:${team}:${user.id}`,
    answer: {
      via: "ephemeral",
      team,
      channel: container.channel_id,
      threadTs: container.thread_ts ?? message?.thread_ts ?? container.message_ts,
      user: user.id,
    },
  };
}

/** What an interaction asks for, and the action it names (kept on the delivery). */
export type InteractionReading = SlackEventReading & { action?: string };

function readClick(click: BlockActions): Check<InteractionReading> {
  const team = click.team?.id ?? click.user.team_id;
  if (team === undefined) {
    return reject("The block_actions interaction names no workspace: it has neither team.id nor user.team_id.");
  }
  const by = clicker(click, team);
  const commands: Command[] = [];
  const unknown: string[] = [];
  for (const { action_id, value } of click.actions) {
    const action = rowOf(CARD_ACTIONS, action_id);
    if (action === undefined || value === undefined) {
      unknown.push(action_id);
    } else {
      commands.push(action(value, by));
    }
  }
  const action = truncate(click.actions[0].action_id, 200);
  return commands.length > 0
    ? accept({ commands, action })
    : accept({ ignored: truncate(`No action of this app was clicked (${unknown.join(", ")}).`, 300), action });
}

/** Interactions by type: a click on a card's button is read; other kinds are recorded and not acted on. */
const INTERACTIONS: Readonly<Record<string, Row<void, InteractionReading>>> = {
  block_actions: shaped("The block_actions interaction", blockActions, readClick),
};

/** What an interaction (the JSON of a form's one `payload` field) asks for, or why it is not of its type's shape. */
export function readInteraction(type: string, payload: unknown): Check<InteractionReading> {
  const row = rowOf(INTERACTIONS, type);
  return row === undefined ? accept({ ignored: `Slack's ${type} interaction is not acted on.` }) : row(payload);
}
