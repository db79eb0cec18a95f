import { LIMITS } from "../../../src/limits";
import { budget } from "../platform/budget";
import { MAX_LIVE_LINKS_PER_ORDER } from "../workOrders/liveIndex";

/*
 * What a piece of a delivery's work may cost at most: the largest rows it
 * reads, and each unit of work (convex/model/effects/applyCommands.ts),
 * checked against what the transaction has left (model/platform/budget.ts).
 */

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

/**
 * What recording one event costs (model/events/record.ts) besides the data
 * it carries (a link's value, a status change's reason): its row's ids and
 * type, and with sending on its outbox row, the lane read and patched, its
 * runner looked up and scheduled, a counter shard read and written.
 */
export const EVENT_COST = budget({
  bytesRead: 4 * KiB,
  bytesWritten: 4 * KiB,
  documentsRead: 4,
  documentsWritten: 4,
  databaseQueries: 4,
});

/* What applying a delivery's commands (model/effects/applyCommands.ts) budgets for each unit of work. */

// The most one command's unit may read and write. A status change: the order read, patched
// (read again) and written, its history row, the live index rows it drops, the card it queues, its event.
export const STATUS_CHANGE_COST = budget({
  bytesRead: 2 * ORDER_BYTES + 2 * (1 + MAX_LIVE_LINKS_PER_ORDER) * VALUE_ROW_BYTES + 64 * 1024 + EVENT_COST.bytesRead,
  bytesWritten: ORDER_BYTES + 64 * 1024 + EVENT_COST.bytesWritten + BYTES_PER_CHAR * LIMITS.reasonChars,
  documentsRead: 2 + 2 * (1 + MAX_LIVE_LINKS_PER_ORDER) + 16 + EVENT_COST.documentsRead,
  documentsWritten: 2 + (1 + MAX_LIVE_LINKS_PER_ORDER) + 8 + EVENT_COST.documentsWritten,
  databaseQueries: 32 + EVENT_COST.databaseQueries,
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
