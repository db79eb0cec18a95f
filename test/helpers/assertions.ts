import { expect } from "vitest";
import type { TableNames } from "../../convex/_generated/dataModel";
import schema from "../../convex/schema";
import { SECRET_PIECE_CHARS } from "../../src/secrets";
import type { Backend } from "./backend";
import { keptBodies } from "./inbox/deliveries";

/** What a refused call must leave behind: its error, and no change to any table. */

type ErrorData = { code: string; message: string; [field: string]: unknown };

/** Awaits a call that must fail with a ConvexError of this contract code, and returns its data. */
export async function expectConvexError(call: Promise<unknown>, code: string): Promise<ErrorData> {
  const error: unknown = await call.then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(error, `expected the call to fail with ${code}`).not.toBeNull();
  const data = (error as { data?: ErrorData }).data;
  expect(data?.code, `error was: ${String(error)}`).toBe(code);
  expect(data?.message.length).toBeGreaterThan(10);
  return data as ErrorData;
}

/** Awaits a call that Convex's argument validation must refuse; `detail` is what the message names. */
export async function expectValidatorError(call: Promise<unknown>, detail: RegExp) {
  const error: unknown = await call.then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(String(error)).toMatch(/Validator error/);
  expect(String(error)).toMatch(detail);
}

/** Every document of every table: to check that a failed call changed nothing. */
export async function snapshotTables(t: Backend): Promise<Record<string, unknown[]>> {
  return await t.run(async (ctx) => {
    const tables: Record<string, unknown[]> = {};
    for (const table of Object.keys(schema.tables) as TableNames[]) {
      tables[table] = await ctx.db.query(table).collect();
    }
    return tables;
  });
}

/** The inbox's own tables: what storing a delivery writes, whatever its effects. */
const INBOX_TABLES: readonly TableNames[] = ["webhook_deliveries", "delivery_bodies", "delivery_tallies", "delivery_counters", "delivery_attempts", "delivery_conflicts"];

/** Every table but the inbox's own: what a delivery's effects would change. */
export async function domainTables(t: Backend): Promise<Record<string, unknown[]>> {
  const tables = await snapshotTables(t);
  for (const table of INBOX_TABLES) {
    delete tables[table];
  }
  return tables;
}

/** Runs a call that must fail, and checks that no document was added, changed or removed. */
export async function expectNothingWritten(t: Backend, call: () => Promise<unknown>) {
  const before = await snapshotTables(t);
  await call();
  expect(await snapshotTables(t)).toEqual(before);
}

/** Every row of every table, and every blob: a refused request must leave all of them empty. */
export async function expectEmptyBackend(t: Backend) {
  const tables = await snapshotTables(t);
  expect(Object.fromEntries(Object.entries(tables).filter(([, rows]) => rows.length > 0))).toEqual({});
  expect(await keptBodies(t)).toBe(0);
}

/** Every piece of a secret that must never be kept: its 8-character substrings (a shorter secret whole). */
export function piecesOf(secret: string): string[] {
  if (secret.length <= SECRET_PIECE_CHARS) return [secret];
  return Array.from({ length: secret.length - SECRET_PIECE_CHARS + 1 }, (_, start) => secret.slice(start, start + SECRET_PIECE_CHARS));
}

/** Checks that `kept` (a stored row, a log) holds no piece of `secret`. */
export function expectNoPiece(kept: string, secret: string) {
  const found = piecesOf(secret).filter((piece) => kept.includes(piece));
  expect(found, `pieces of the secret kept in ${JSON.stringify(kept.slice(0, 300))}`).toEqual([]);
}

/** Awaits a call that Convex itself refuses (not one of this service's errors), and returns the message. */
export async function expectConvexLimit(call: Promise<unknown>, limit: RegExp): Promise<string> {
  const error: unknown = await call.then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(error, "expected Convex to refuse the call").toBeInstanceOf(Error);
  expect((error as { data?: unknown }).data).toBeUndefined();
  expect(String(error)).toMatch(limit);
  expect(String(error)).toMatch(/This is a Convex limit/);
  return String(error);
}
