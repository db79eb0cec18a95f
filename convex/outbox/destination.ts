import { v, type GenericValidator, type Infer, type Validator, type Value } from "convex/values";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import type { RetryPolicy } from "../../src/retry";

/*
 * What a destination of the outbox is (docs/architecture.md, "Adding a
 * destination"): a name and the shape of its requests (its handle, listed in
 * convex/outbox/registry.ts, by which the writing side queues rows), and an
 * adapter (convex/outbox/destinations/<name>.ts) that says what to send for
 * a row and what the answer means. Lanes, order, pace, retries, recovery,
 * counts and the operators' functions are the outbox's, the same for all.
 */

/** Every destination's request is an object that says what kind of request it is (`reply`, `card`, `comment`...). */
export type OutboxRequest = { kind: string };

/** A destination as the writing side sees it: its name and the shape of its requests. */
export type OutboxHandle<Request extends OutboxRequest> = {
  destination: string;
  request: Validator<Request, "required", string>;
};

export function outboxHandle<Request extends OutboxRequest>(destination: string, request: Validator<Request, "required", string>): OutboxHandle<Request> {
  return { destination, request };
}

/** An outbox row, its request read as the destination's. */
export type OutboxRow<Request extends OutboxRequest> = Omit<Doc<"outbox">, "request"> & { request: Request };

/**
 * What came of one request: sent (with a short result the destination
 * answered, e.g. Slack's `ts`), worth another attempt (after the other
 * side's Retry-After, if it sent one; `uncertain` when it may have acted on
 * the request all the same; `notMade` when it was not made, which costs no
 * attempt), or refused for good (a short machine code,
 * e.g. `not_in_channel`, and the HTTP status). An error never holds a secret.
 */
export const vAnswer = v.union(
  v.object({ kind: v.literal("sent"), result: v.optional(v.string()) }),
  v.object({
    kind: v.literal("retry"),
    error: v.string(),
    retryAfterMs: v.optional(v.number()),
    uncertain: v.optional(v.literal(true)),
    httpStatus: v.optional(v.number()),
    // The request was not made (a look before it was rate-limited): the row waits, and the attempt is not counted.
    notMade: v.optional(v.literal(true)),
  }),
  v.object({ kind: v.literal("failed"), error: v.string(), httpStatus: v.optional(v.number()) }),
);
export type Answer = Infer<typeof vAnswer>;

/** What to send for a claimed row: the call (a plain value the sending action receives) and a word for it in the row (`chat.update`); or why nothing is left to send. */
export type Prepared<Call extends Value> = { call: Call; method: string } | { gone: string };

/**
 * A destination's adapter. `prepare` and `sent` run in the runner's
 * mutations (they may read and write the database); `send` runs in its
 * action (it may call out, and must not throw for an answer it can read).
 */
export type Destination<Request extends OutboxRequest, Call extends Value> = {
  handle: OutboxHandle<Request>;
  /** The shape of the call `prepare` makes, as it travels to the action. */
  call: GenericValidator & { readonly type: Call };
  /** The least time between two requests of one lane (Slack: a second per channel). */
  spacingMs: number;
  /** How a row whose attempt failed for the moment is tried again, and when it is given up. */
  retry: RetryPolicy;
  /** What to send for the row as things are now (a card is rendered from its order here). */
  prepare(ctx: MutationCtx, row: OutboxRow<Request>): Promise<Prepared<Call>>;
  /** Makes the request and reads the answer. */
  send(call: Call, row: { rowId: Id<"outbox"> }): Promise<Answer>;
  /** What a sent row's answer means, written in the transaction that records it (Slack: the reply's origin, the card's ts). */
  sent?(ctx: MutationCtx, row: OutboxRow<Request>, result: string | undefined): Promise<void>;
  /**
   * A refusal the destination can mend in the transaction that records it
   * (Slack: a card deleted in Slack loses its ts, so that it is posted
   * again); true when it did, and the row is then sent again at once.
   */
  mend?(ctx: MutationCtx, row: OutboxRow<Request>, error: string): Promise<boolean>;
};

/** An adapter, typed by its handle and call. */
export function destination<Request extends OutboxRequest, Call extends Value>(adapter: Destination<Request, Call>): Destination<Request, Call> {
  return adapter;
}
