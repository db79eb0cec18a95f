import type { z } from "zod";
import { reject, type Check } from "../../check";
import { summarizeIssues } from "../zodIssues";

/*
 * Slack's payloads are read through tables keyed by what names each kind
 * (a callback's `type`, an event's `type`, an action's `action_id`, a slash
 * command's first word). A row parses its payload once, with its schema, and
 * hands the typed payload on: no cast, and one dispatch per level.
 */

/** A row of a table: reads a value of its kind, or says (for a 400) what is wrong with it. */
export type Reader<Context, Result> = (value: unknown, context: Context) => Check<Result>;

/** A row whose payload has this schema; `what` names the payload in the message when it does not fit. */
export function shaped<Schema extends z.ZodType, Context, Result>(
  what: string,
  schema: Schema,
  read: (payload: z.output<Schema>, context: Context) => Check<Result>,
): Reader<Context, Result> {
  return (value, context) => {
    const parsed = schema.safeParse(value);
    return parsed.success ? read(parsed.data, context) : reject(`${what} is not of the expected shape: ${summarizeIssues(parsed.error)}`);
  };
}

/** The table's row for `key`: own keys only, so that a sender's `__proto__` or `toString` names no row. */
export function rowOf<Row>(table: Readonly<Record<string, Row>>, key: string): Row | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
