import type { QueryCtx } from "../../_generated/server";
import { LIMITS } from "../../../src/limits";
import { MAX_LIVE_LINKS_PER_ORDER } from "../workOrders/liveIndex";

/*
 * What a piece of a delivery's work may cost at most, against what the
 * transaction has left of Convex's limits (ctx.meta.getTransactionMetrics):
 * work that does not fit is left to the delivery's next transaction
 * (convex/model/effects/applyCommands.ts), so that no crowd of orders, however large their
 * documents, can push one transaction past a limit.
 */

/** Convex's per-transaction measures this service budgets. */
export type Budget = {
  bytesRead: number;
  bytesWritten: number;
  documentsRead: number;
  documentsWritten: number;
  databaseQueries: number;
};

const KiB = 1024;

// UTF-8 takes at most 3 bytes for each UTF-16 unit a limit in characters counts.
const BYTES_PER_CHAR = 3;

/** The largest work_orders document: its prompt and its bounded texts, and room for ids and numbers. */
export const ORDER_BYTES =
  LIMITS.promptBytes + BYTES_PER_CHAR * (LIMITS.titleChars + LIMITS.workflowTypeChars + LIMITS.identifierChars) + KiB;

/**
 * The largest row of the small tables a webhook reads by value (a link, a
 * target, their live rows). A link's value is ASCII (a URL, a SHA); a
 * target outside github.com is kept as given.
 */
export const VALUE_ROW_BYTES = Math.max(LIMITS.linkValueChars, BYTES_PER_CHAR * (LIMITS.repoChars + LIMITS.branchChars)) + KiB;

/** The largest work_order_links row: its value is ASCII (a URL, a SHA), with the order's id and its own. */
export const LINK_ROW_BYTES = LIMITS.linkValueChars + 512;

/** What recording the delivery itself takes, kept back from every piece of its work. */
const RESERVE: Budget = {
  bytesRead: 512 * KiB,
  bytesWritten: 256 * KiB,
  documentsRead: 64,
  documentsWritten: 32,
  databaseQueries: 32,
};

export function budget(partial: Partial<Budget>): Budget {
  return { bytesRead: 0, bytesWritten: 0, documentsRead: 0, documentsWritten: 0, databaseQueries: 0, ...partial };
}

export function sumBudgets(...parts: Budget[]): Budget {
  const sum = budget({});
  for (const part of parts) {
    for (const key of Object.keys(sum) as (keyof Budget)[]) {
      sum[key] += part[key];
    }
  }
  return sum;
}

/**
 * How many pieces of work costing `each` still fit the transaction after
 * `first` (paid once) and the reserve; 0 when not even `first` fits.
 */
export async function roomFor(ctx: { meta: QueryCtx["meta"] }, each: Budget, first: Budget = budget({})): Promise<number> {
  const metrics = await ctx.meta.getTransactionMetrics();
  let room = Number.POSITIVE_INFINITY;
  for (const key of Object.keys(each) as (keyof Budget)[]) {
    const left = metrics[key].remaining - RESERVE[key] - first[key];
    if (left < 0) {
      return 0;
    }
    if (each[key] > 0) {
      room = Math.min(room, Math.floor(left / each[key]));
    }
  }
  return room;
}

/** Whether work costing `cost` fits what the transaction has left, with the reserve kept. */
export async function fits(ctx: { meta: QueryCtx["meta"] }, cost: Budget): Promise<boolean> {
  return (await roomFor(ctx, budget({}), cost)) > 0;
}

/* What applying a delivery's commands (model/effects/applyCommands.ts) budgets for each unit of work. */

// The most one command's unit may read and write. A status change: the order read, patched
// (read again) and written, its history row, the live index rows it drops, the card it queues.
export const STATUS_CHANGE_COST = budget({
  bytesRead: 2 * ORDER_BYTES + 2 * (1 + MAX_LIVE_LINKS_PER_ORDER) * VALUE_ROW_BYTES + 64 * 1024,
  bytesWritten: ORDER_BYTES + 64 * 1024,
  documentsRead: 2 + 2 * (1 + MAX_LIVE_LINKS_PER_ORDER) + 16,
  documentsWritten: 2 + (1 + MAX_LIVE_LINKS_PER_ORDER) + 8,
  databaseQueries: 32,
});
// Any other command: a message of at most 256 KiB with 64 KiB of metadata, its origin, its
// session, and its reply's parts queued for Slack (a part per 3,900 characters); or an order
// read whole with its args (a launch input of at most 1 MiB).
export const COMMAND_COST = budget({
  bytesRead: 2 * 1024 * 1024,
  bytesWritten: 2 * 1024 * 1024,
  documentsRead: 256,
  documentsWritten: 256,
  databaseQueries: 64,
});

// What writing one order's links costs besides the links: the order read (its liveness, its
// updatedAt) and touched, its live link rows counted, its counter shards, its card.
export const LINKED_ORDER_COST = budget({
  bytesRead: 2 * ORDER_BYTES + MAX_LIVE_LINKS_PER_ORDER * VALUE_ROW_BYTES + 64 * 1024,
  bytesWritten: ORDER_BYTES + 64 * 1024,
  documentsRead: 2 + MAX_LIVE_LINKS_PER_ORDER + 16,
  documentsWritten: 1 + 16,
  databaseQueries: 32,
});
