import { ConvexHttpClient, type ConvexClient } from "convex/browser";
import type { ServiceTokens } from "./auth";
import { jangarFunctions, type ConvexCaller, type JangarFunctions } from "./functions";

/*
 * A Convex client that acts as Jangar's server (or, given `as`, as one of
 * its users), with the twelve functions typed (docs/server.md#calling-the-functions).
 *
 *   const tokens = await serviceTokens(process.env.JANGAR_SERVICE_KEY!);
 *   const jangar = connectHttp(process.env.CONVEX_URL!, tokens);
 *   await jangar.chatMessages.append({ sessionId, role: "assistant", content: "On it." });
 */

export type HttpOptions = {
  /** Act as this user (a token whose subject is the user) instead of as the service. */
  as?: string;
  /** Passed to `ConvexHttpClient`: a stand-in for `fetch`, a logger, or a self-hosted URL that is not `*.convex.cloud`. */
  fetch?: typeof globalThis.fetch;
  logger?: boolean;
  skipConvexDeploymentUrlCheck?: boolean;
};

/**
 * The twelve functions over HTTP, one request per call, each with a token
 * that is fresh (minted again when the last nears its end).
 */
export function connectHttp(url: string, tokens: ServiceTokens, options: HttpOptions = {}): JangarFunctions & { convex: ConvexHttpClient } {
  const { as: subject, ...clientOptions } = options;
  const convex = new ConvexHttpClient(url, clientOptions);
  const authenticated: ConvexCaller = {
    query: async (query, args) => {
      convex.setAuth(await tokens.token(subject));
      return await convex.query(query, args);
    },
    mutation: async (mutation, args) => {
      convex.setAuth(await tokens.token(subject));
      return await convex.mutation(mutation, args);
    },
  };
  return { ...jangarFunctions(authenticated), convex };
}

/**
 * Makes a `ConvexClient` (WebSocket) act as the service, or as the user
 * `as`: it fetches a token now and again before each one ends. Then call the
 * functions with `jangarFunctions(client)`, or subscribe with `client.onUpdate`.
 */
export function authenticate(client: ConvexClient, tokens: ServiceTokens, as?: string): void {
  client.setAuth(tokens.fetcher(as));
}
