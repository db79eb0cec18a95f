import type { z } from "zod";
import { reject, type Check } from "../check";
import { summarizeIssues } from "./zodIssues";

/*
 * Every sender's payloads are read through tables keyed by what names each
 * kind: GitHub's X-GitHub-Event, a Standard Webhooks event's `type`, a Slack
 * callback's `type`, an event's `type`, an interaction's `type`, an action's
 * `action_id`, a slash command's first word. A row parses its payload once,
 * with its schema, and hands the typed payload on: no cast, one dispatch per
 * level, and adding a kind is adding a row.
 */

/** A row of a table: reads a value of its kind, or says (for a 400) what is wrong with it. */
export type Row<Context, Result> = (value: unknown, context: Context) => Check<Result>;

/**
 * A row whose payload has this schema. A payload not of its shape is
 * refused with Zod's issues in one line (paths under `root`): after `what`,
 * the payload's name ("<what> is not of the expected shape: <issues>"), or
 * as `what` words them.
 */
export function shaped<Schema extends z.ZodType, Context, Result>(
  what: string | ((issues: string) => string),
  schema: Schema,
  read: (payload: z.output<Schema>, context: Context) => Check<Result>,
  root?: string,
): Row<Context, Result> {
  const refusal = typeof what === "string" ? (issues: string) => `${what} is not of the expected shape: ${issues}` : what;
  return (value, context) => {
    const parsed = schema.safeParse(value);
    return parsed.success ? read(parsed.data, context) : reject(refusal(summarizeIssues(parsed.error, root)));
  };
}

/** The table's row for `key`: own keys only, so that a sender's `__proto__` or `toString` names no row. */
export function rowOf<Row>(table: Readonly<Record<string, Row>>, key: string): Row | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
