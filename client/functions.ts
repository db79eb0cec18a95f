import type { FunctionArgs, FunctionReference, FunctionReturnType } from "convex/server";
import { api } from "../convex/_generated/api";

/*
 * The twelve public functions (docs/contract.md#2-public-functions), typed
 * from the deployment's own validators, over any Convex client that can run
 * queries and mutations: `ConvexHttpClient` (one request per call) or
 * `ConvexClient` (a WebSocket, for subscriptions too).
 *
 *   const jangar = jangarFunctions(convex);
 *   const sessionId = await jangar.chatSessions.create({ title: "Deploy", userId: "alice" });
 */

type AnyQuery = FunctionReference<"query">;
type AnyMutation = FunctionReference<"mutation">;

/** What the calls need of a Convex client; `ConvexHttpClient` and `ConvexClient` both have it. */
export type ConvexCaller = {
  query<Query extends AnyQuery>(query: Query, args: FunctionArgs<Query>): Promise<FunctionReturnType<Query>>;
  mutation<Mutation extends AnyMutation>(mutation: Mutation, args: FunctionArgs<Mutation>): Promise<FunctionReturnType<Mutation>>;
};

/** The typed calls of the twelve functions, made through `convex`. */
export function jangarFunctions(convex: ConvexCaller) {
  const query =
    <Query extends AnyQuery>(reference: Query) =>
    (args: FunctionArgs<Query>) =>
      convex.query(reference, args);
  const mutation =
    <Mutation extends AnyMutation>(reference: Mutation) =>
    (args: FunctionArgs<Mutation>) =>
      convex.mutation(reference, args);
  return {
    chatSessions: {
      create: mutation(api.chatSessions.create),
      list: query(api.chatSessions.list),
      get: query(api.chatSessions.get),
    },
    chatMessages: {
      append: mutation(api.chatMessages.append),
      listBySession: query(api.chatMessages.listBySession),
    },
    workOrders: {
      create: mutation(api.workOrders.create),
      updateStatus: mutation(api.workOrders.updateStatus),
      listBySession: query(api.workOrders.listBySession),
      get: query(api.workOrders.get),
    },
    workOrderArgs: { upsert: mutation(api.workOrderArgs.upsert) },
    workOrderTargets: { upsert: mutation(api.workOrderTargets.upsert) },
    workOrderLinks: { add: mutation(api.workOrderLinks.add) },
  };
}

export type JangarFunctions = ReturnType<typeof jangarFunctions>;
