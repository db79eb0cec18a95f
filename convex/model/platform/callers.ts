import { customMutation, customQuery } from "convex-helpers/server/customFunctions";
import type { Auth } from "convex/server";
import { mutation, query, type QueryCtx } from "../../_generated/server";
import { serviceIdentities } from "./config";
import { logCost } from "./cost";
import { invalidArgument, unauthenticated, valueOf } from "./errors";
import { checkText } from "../../../src/text";
import { LIMITS } from "../../../src/limits";
import type { StatusSource } from "../../../src/workOrders/status";

/**
 * Who is calling. A service (Jangar's server, identified by a tokenIdentifier
 * listed in JANGAR_SERVICE_IDENTITIES) acts on every record; any other
 * identity is the user `identity.subject` and acts on its own records only.
 */
export type Caller =
  | { kind: "service"; tokenIdentifier: string }
  | { kind: "user"; userId: string; tokenIdentifier: string };
type UserCaller = Extract<Caller, { kind: "user" }>;

export async function requireCaller(ctx: { auth: Auth }): Promise<Caller> {
  const identity = await ctx.auth.getUserIdentity();
  if (identity === null) {
    throw unauthenticated();
  }
  if (serviceIdentities().has(identity.tokenIdentifier)) {
    return { kind: "service", tokenIdentifier: identity.tokenIdentifier };
  }
  return { kind: "user", userId: identity.subject, tokenIdentifier: identity.tokenIdentifier };
}

/**
 * What to fix when a user is refused something a service may do: the caller
 * may be Jangar's server with its tokenIdentifier missing from, or mistyped
 * in, JANGAR_SERVICE_IDENTITIES (docs/contract.md#the-service-client).
 */
export function notAServiceHint(caller: UserCaller): string {
  return (
    `This caller acts as the user ${JSON.stringify(caller.userId)}: its tokenIdentifier ${JSON.stringify(caller.tokenIdentifier)} ` +
    `is not listed in JANGAR_SERVICE_IDENTITIES. If it is Jangar's server, add that tokenIdentifier to JANGAR_SERVICE_IDENTITIES ` +
    `(npx convex env set JANGAR_SERVICE_IDENTITIES ...).`
  );
}

/** The hint a refusal gives a user caller (see `notAServiceHint`); none for a service. */
export function refusalHint(caller: Caller): string | undefined {
  return caller.kind === "user" ? notAServiceHint(caller) : undefined;
}

/**
 * Where a change came from, as events out tell it
 * (docs/contract.md#events-out-telling-jangars-server-what-happened): its
 * source, and whether a service made it by its own call, which makes no
 * event (the service knows what it did).
 */
export type ChangeOrigin = { source: StatusSource; byService: boolean };

/** The origin of a change a public function makes for its caller. */
export function callOrigin(caller: Caller): ChangeOrigin {
  return { source: "api", byService: caller.kind === "service" };
}

/** How the caller appears in the status history. */
export function actorName(caller: Caller): string {
  return caller.kind === "service"
    ? `service:${caller.tokenIdentifier}`
    : `user:${caller.userId}`;
}

/** Whether the caller may see records owned by `userId`. */
export function mayAccess(caller: Caller, userId: string): boolean {
  return caller.kind === "service" || caller.userId === userId;
}

/**
 * The user a record is made for or attributed to (`userId`, `requestedBy`).
 * A user may only name itself and defaults to itself; a service names anyone
 * and falls back to `fallback` (or must name one when there is none).
 */
export function attributedUser(
  caller: Caller,
  field: string,
  requested: string | undefined,
  fallback?: string,
): string {
  if (caller.kind === "user") {
    if (requested !== undefined && requested !== caller.userId) {
      throw invalidArgument(
        `${field} may only name yourself (${caller.userId}); only a service may act for another user. ${notAServiceHint(caller)}`,
      );
    }
    return caller.userId;
  }
  const named = requested ?? fallback;
  if (named === undefined) {
    throw invalidArgument(`A service caller must pass ${field}.`);
  }
  return valueOf(checkText(field, named, { maxChars: LIMITS.identifierChars }));
}

/**
 * Adds the caller to the context; with JANGAR_LOG_COST set, each successful
 * call also logs what its transaction read and wrote (`cost {...}`), which is
 * how `npm run bench` measures the public functions.
 */
const withCaller = {
  args: {},
  input: async (ctx: { auth: Auth; meta: QueryCtx["meta"] }) => ({
    ctx: { caller: await requireCaller(ctx) },
    args: {},
    onSuccess: async () => await logCost(ctx),
  }),
};

/** Public query/mutation builders: the handler receives `ctx.caller`, or the call fails UNAUTHENTICATED. */
export const callerQuery = customQuery(query, withCaller);
export const callerMutation = customMutation(mutation, withCaller);

/**
 * Whose records a list shows: a user its own, and naming another user is
 * refused as in `attributedUser` (an empty page would tell a misconfigured
 * server that the user has nothing); a service must name the user.
 */
export function listedUser(caller: Caller, userId: string | undefined): string {
  if (caller.kind === "service") {
    if (userId === undefined) {
      throw invalidArgument("A service caller must pass userId: whose records to list.");
    }
    return userId;
  }
  if (userId !== undefined && userId !== caller.userId) {
    throw invalidArgument(
      `userId may only name yourself (${caller.userId}); only a service may list another user's records. ${notAServiceHint(caller)}`,
    );
  }
  return caller.userId;
}

/** The page a caller gets for records it may not see. */
export function emptyPage() {
  return { page: [], isDone: true, continueCursor: "" };
}
