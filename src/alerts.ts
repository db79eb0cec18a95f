import { escapeSlackText, literalWithin } from "./slack/text";

/**
 * Operator alerts (docs/operations.md#alerts): the conditions worth telling
 * an operator about, how often each may be told, and the text of an alert,
 * as Slack mrkdwn with everything a sender or another service wrote escaped.
 *
 * ```ts
 * const text = alertText({ kind: "deliveryFailed", source: "github", deliveryId, event: "push", error, failed: 3 });
 * ```
 */

/** The least time between two alerts of one condition. */
export const ALERT_EVERY_MS = 60 * 60 * 1000;

/** The ages of the oldest failure that are told, each once per failure. */
export const OLDEST_FAILURE_AGES = { hour: 60 * 60 * 1000, day: 24 * 60 * 60 * 1000 } as const;
export type FailureAge = keyof typeof OLDEST_FAILURE_AGES;

/** A condition's key in `alert_conditions`: one per source, per destination, the reconciler's, one per age of the oldest failure. */
export type ConditionKey = `deliveryFailed:${string}` | `outboxFailed:${string}` | "ordersFailed" | `oldestFailure:${FailureAge}`;

/** Whether a condition last told at `lastAlertedAt` (never: undefined) may be told again at `now`. */
export function alertDue(lastAlertedAt: number | undefined, now: number): boolean {
  return lastAlertedAt === undefined || now - lastAlertedAt >= ALERT_EVERY_MS;
}

/** The oldest failure that waits for an operator: a delivery or an outbox row, and when it failed. */
export type OldestFailure = { what: "delivery"; source: string; id: string; failedAt: number } | { what: "outbox row"; destination: string; id: string; failedAt: number };

/** What an alert tells. Counts are as they stand when the alert is queued. */
export type Alert =
  /** A delivery failed for good (no attempt left); `failed`: the source's failed deliveries now (for good, or waiting for a retry). */
  | { kind: "deliveryFailed"; source: string; deliveryId: string; event?: string; error: string; failed: number }
  /** An outbox row failed for good; `failed`: the destination's failed rows now. */
  | { kind: "outboxFailed"; destination: string; rowId: string; request: string; error: string; failed: number }
  /** The reconciler failed orders: how many since the last alert, and a few of them. */
  | { kind: "ordersFailed"; orders: number; examples: string[] }
  /** The oldest failure has waited past an hour or a day; the failed deliveries and outbox rows now. */
  | { kind: "oldestFailure"; age: FailureAge; oldest: OldestFailure; now: number; failedDeliveries: number; failedRows: number };

export function conditionOf(alert: Alert): ConditionKey {
  switch (alert.kind) {
    case "deliveryFailed":
      return `deliveryFailed:${alert.source}`;
    case "outboxFailed":
      return `outboxFailed:${alert.destination}`;
    case "ordersFailed":
      return "ordersFailed";
    case "oldestFailure":
      return `oldestFailure:${alert.age}`;
    default:
      return alert satisfies never;
  }
}

// The most of an error, an event name or an id an alert shows, as sent.
const ERROR_CHARS = 300;
const NAME_CHARS = 100;
const EXAMPLES = 5;

/** A value someone else wrote, shown literally in a code span. */
function code(text: string, maxChars = NAME_CHARS): string {
  return `\`${literalWithin(text, maxChars)}\``;
}

/** An operator command, shown as it is to be typed. */
function command(text: string): string {
  return `• \`${escapeSlackText(text)}\``;
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

function ageOf(ms: number): string {
  const hours = Math.floor(ms / (60 * 60 * 1000));
  return hours >= 48 ? `${Math.floor(hours / 24)} days` : hours >= 1 ? plural(hours, "hour") : plural(Math.max(1, Math.floor(ms / 60_000)), "minute");
}

const QUIET = `_Jangar tells this condition at most once an hour._`;

/** The lines of an alert: what happened, the counts, then the commands that help. */
function alertLines(alert: Alert): string[] {
  switch (alert.kind) {
    case "deliveryFailed":
      return [
        `:rotating_light: *Jangar: a ${literalWithin(alert.source, NAME_CHARS)} delivery failed for good*`,
        `Delivery ${code(alert.deliveryId)}${alert.event === undefined ? "" : ` (${code(alert.event)})`}: ${literalWithin(alert.error, ERROR_CHARS)}`,
        `Failed ${literalWithin(alert.source, NAME_CHARS)} deliveries now: *${alert.failed}*.`,
        command("npx convex run ingest:inboxStatus"),
        command(`npx convex run ingest:attempts '{"deliveryId": "${alert.deliveryId}"}'`),
        command(`npx convex run ingest:replayFailed '{"source": "${alert.source}"}'`),
      ];
    case "outboxFailed":
      return [
        `:rotating_light: *Jangar: a request to ${literalWithin(alert.destination, NAME_CHARS)} failed for good*`,
        `Outbox row ${code(alert.rowId)} (${code(alert.request)}): ${literalWithin(alert.error, ERROR_CHARS)}`,
        `Failed ${literalWithin(alert.destination, NAME_CHARS)} rows now: *${alert.failed}*.`,
        command(`npx convex run outbox:status '{"destination": "${alert.destination}"}'`),
        command(`npx convex run outbox:replayFailed '{"destination": "${alert.destination}"}'`),
      ];
    case "ordersFailed":
      return [
        `:rotating_light: *Jangar: the reconciler failed ${plural(alert.orders, "work order")}*`,
        `Failed since the last alert: *${alert.orders}*${alert.examples.length === 0 ? "" : `, among them ${alert.examples.slice(0, EXAMPLES).map((id) => code(id)).join(", ")}`}.`,
        `Orders fail when Temporal says their workflow ended, or when they stay unmoved past STALE_FAIL_AFTER_MS without Temporal.`,
        command("npx convex logs"),
        command("npx convex data work_orders --order desc --limit 20"),
      ];
    case "oldestFailure": {
      const { oldest } = alert;
      const where = oldest.what === "delivery" ? `${literalWithin(oldest.source, NAME_CHARS)} delivery` : `${literalWithin(oldest.destination, NAME_CHARS)} outbox row`;
      return [
        `:hourglass: *Jangar: the oldest failure has waited over ${alert.age === "hour" ? "an hour" : "a day"}*`,
        `The ${where} ${code(oldest.id)} failed ${ageOf(alert.now - oldest.failedAt)} ago and waits for an operator.`,
        `Failed now: *${alert.failedDeliveries}* ${alert.failedDeliveries === 1 ? "delivery" : "deliveries"}, *${alert.failedRows}* outbox ${alert.failedRows === 1 ? "row" : "rows"}.`,
        command("npx convex run ingest:inboxStatus"),
        command("npx convex run outbox:status"),
        command("npx convex run ingest:replayFailed"),
        command("npx convex run outbox:replayFailed"),
      ];
    }
    default:
      return alert satisfies never;
  }
}

/** An alert's message: mrkdwn, every outside value escaped and bounded (a few hundred characters in all). */
export function alertText(alert: Alert): string {
  return [...alertLines(alert), QUIET].join("\n");
}
