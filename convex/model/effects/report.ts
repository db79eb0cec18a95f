import { v, type Infer } from "convex/values";
import type { TableNames } from "../../_generated/dataModel";
import { truncate } from "../../../src/text";

/** A record a delivery's commands changed, and how. */
export const vTouched = v.object({ table: v.string(), id: v.string(), change: v.string() });
export type Touched = Infer<typeof vTouched>;

// A delivery keeps the first KEPT records it changed and skips it noted,
// each cut to NOTE_CHARS, and counts them all: its row stays small whatever
// the sender sent.
const KEPT = 100;
const NOTE_CHARS = 300;

/** What applying a delivery did, and what it asked for but did not do, and why: bounded, with the counts. */
export class Applied {
  readonly touched: Touched[];
  readonly skipped: string[];
  touchedCount: number;
  skippedCount: number;
  /** What to tell the person who asked, in the request's own reply (a slash command's answer). */
  readonly told: string[] = [];

  /** Starts empty, or carries on from the record of the delivery's earlier transactions. */
  constructor(earlier?: { touched: Touched[]; touchedCount: number; skipped: string[]; skippedCount: number }) {
    this.touched = [...(earlier?.touched ?? [])];
    this.touchedCount = earlier?.touchedCount ?? 0;
    this.skipped = [...(earlier?.skipped ?? [])];
    this.skippedCount = earlier?.skippedCount ?? 0;
  }

  touch(table: TableNames, id: string, change: string) {
    this.touchedCount += 1;
    if (this.touched.length < KEPT) {
      this.touched.push({ table, id, change: truncate(change, NOTE_CHARS) });
    }
  }

  tell(text: string) {
    if (this.told.length < KEPT) {
      this.told.push(text);
    }
  }

  skip(reason: string) {
    this.skippedCount += 1;
    if (this.skipped.length < KEPT) {
      this.skipped.push(truncate(reason, NOTE_CHARS));
    }
  }
}
