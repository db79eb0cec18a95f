import type { Command, Person } from "../../commands";
import { escapeSlackText } from "../../slack/text";
import { rowOf } from "../table";
import type { SlashCommand } from "./payloads";
import type { SlackEventReading } from "./events";

/** What the words after a subcommand ask for, or null when they do not fit it (the usage text answers). */
type Subcommand = (words: string[], by: Person) => Command | null;

/** The slash command's text decides (docs/contract.md#slack-interactivity-cancel-and-retry-on-the-card-and-a-slash-command): its first word names the row. */
const SUBCOMMANDS: Readonly<Record<string, Subcommand>> = {
  status: (words, by) => {
    if (words.length === 0) return { type: "listWorkOrders", by };
    return words.length === 1 ? { type: "showWorkOrder", workOrderId: words[0], by } : null;
  },
  cancel: (words, by) => (words.length === 1 ? { type: "cancelWorkOrder", workOrderId: words[0], by } : null),
};

/** The short text that answers anything else, with the command's name as the workspace calls it. */
export function usageOf(command: string): string {
  const name = escapeSlackText(command);
  return [
    `Usage: \`${name} status\` lists the work orders you asked for, most recently updated first;`,
    `\`${name} status <work order id>\` shows one; \`${name} cancel <work order id>\` cancels one.`,
  ].join(" ");
}

/** What a slash command asks for: a command answered in the request's reply, or the usage text. */
export function readSlashCommand(slash: SlashCommand): SlackEventReading {
  const by: Person = { userId: `slack:${slash.team_id}:${slash.user_id}`, answer: { via: "reply" } };
  const [first = "status", ...rest] = slash.text.trim().split(/\s+/).filter((word) => word.length > 0);
  const command = rowOf(SUBCOMMANDS, first.toLowerCase())?.(rest, by) ?? null;
  return command === null ? { ignored: usageOf(slash.command) } : { commands: [command] };
}
