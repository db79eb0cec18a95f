import type { z } from "zod";
import { accept, reject, type Check } from "../check";
import type { Settings } from "./source";
import { summarizeIssues } from "./zodIssues";

/*
 * A sender's events as one table, `{ eventName: entry }`: each entry is the
 * schema of what this service reads of the event's payload and what such a
 * payload asks of the data. Adding an event is adding an entry.
 */

/** An event's payload, read with its entry's schema: what it asks (`commands`), or why nothing is done with it (`ignored`). */
export type ReadEvent<Context, Result> = {
  /** Set when the event is verified and recorded, but nothing here acts on it. */
  ignored?: string;
  commands(context: Context): Result;
};

export type EventEntry<Context, Result> = {
  /** The part of the payload this service reads; other fields pass through unread. */
  payload: z.ZodType;
  /** Reads a payload with the schema, once; a payload not of its shape is refused, naming what is wrong (paths under `root`). */
  read(payload: unknown, event: string, root?: string, settings?: Settings): Check<ReadEvent<Context, Result>>;
};

export type EventSpec<Schema extends z.ZodType, Context, Result> = {
  payload: Schema;
  /** Why a payload of this event is not acted on, decided on receipt (a push that deletes its branch, a comment for no one here). */
  ignored?: (payload: z.output<Schema>, event: string, settings: Settings) => string | undefined;
  commands: (payload: z.output<Schema>, context: Context) => Result;
};

/**
 * The entry maker of a sender whose `commands` are given `Context` and
 * return `Result`. An entry keeps its payload's type within, so that one
 * record holds entries of every payload type and is read without casts.
 */
export function eventEntries<Context, Result>() {
  return <Schema extends z.ZodType>(spec: EventSpec<Schema, Context, Result>): EventEntry<Context, Result> => ({
    payload: spec.payload,
    read(payload, event, root, settings = {}) {
      const parsed = spec.payload.safeParse(payload);
      if (!parsed.success) {
        return reject(summarizeIssues(parsed.error, root));
      }
      const ignored = spec.ignored?.(parsed.data, event, settings);
      return accept({
        ...(ignored === undefined ? {} : { ignored }),
        commands: (context: Context) => spec.commands(parsed.data, context),
      });
    },
  });
}

/** Whether a table has an entry for this event name (an own key: `constructor` is no event). */
export function isEventOf<Table extends object>(table: Table, event: string): event is Extract<keyof Table, string> {
  return Object.hasOwn(table, event);
}
