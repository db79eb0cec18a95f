import { makeFunctionReference } from "convex/server";
import { ConvexError, convexToJson, jsonToConvex, type JSONValue, type Value } from "convex/values";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import type { AuthProvider } from "convex/server";
import type { Backend } from "./backend";

/**
 * Convex's HTTP API (`POST /api/query`, `/api/mutation`, as `ConvexHttpClient`
 * sends them) over the test backend, as a stand-in for `fetch`. A bearer
 * token is verified as Convex verifies it against the Custom JWT providers
 * of convex/auth.config.ts (`providers`): the issuer picks the provider, the
 * `kid` its key, and the algorithm, audience and expiry must match; the
 * identity is `<iss>|<sub>`. Each request is recorded in `requests`.
 */
export function convexHttpApi(t: Backend, providers: AuthProvider[]) {
  const requests: { path: string; authorization: string | null }[] = [];

  async function identityOf(authorization: string | null) {
    if (authorization === null) return null;
    const token = authorization.replace(/^Bearer /, "");
    const header = decodeProtectedHeader(token);
    const claims = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))) as { iss?: string };
    const provider = providers.find((candidate) => "type" in candidate && candidate.issuer === claims.iss);
    if (provider === undefined || !("type" in provider)) throw new Error(`No auth provider found matching the given token (issuer ${claims.iss})`);
    if (header.typ !== "JWT" || header.kid === undefined) throw new Error("The token's header needs typ JWT and a kid");
    const jwks = JSON.parse(atob(provider.jwks.slice(provider.jwks.indexOf(",") + 1)));
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), {
      issuer: provider.issuer,
      audience: provider.applicationID,
      algorithms: [provider.algorithm],
      requiredClaims: ["sub", "exp", "iat"],
    });
    return { issuer: payload.iss!, subject: payload.sub!, tokenIdentifier: `${payload.iss}|${payload.sub}` };
  }

  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const kind = new URL(request.url).pathname.replace(/^\/api\//, "");
    const authorization = request.headers.get("authorization");
    const { path, args } = (await request.json()) as { path: string; args: JSONValue[] };
    requests.push({ path, authorization });
    if (kind !== "query" && kind !== "mutation") return json(404, { code: "NotFound" });
    let identity;
    try {
      identity = await identityOf(authorization);
    } catch (error) {
      return new Response(`{"code":"Unauthenticated","message":${JSON.stringify(String(error))}}`, { status: 401 });
    }
    const caller = identity === null ? t : t.withIdentity(identity);
    const callArgs = jsonToConvex(args[0]) as Record<string, Value>;
    try {
      const value =
        kind === "query"
          ? await caller.query(makeFunctionReference<"query">(path), callArgs)
          : await caller.mutation(makeFunctionReference<"mutation">(path), callArgs);
      return json(200, { status: "success", value: convexToJson(value as Value), logLines: [] });
    } catch (error) {
      // Convex's "function failed" status; ConvexHttpClient rethrows the ConvexError with its data.
      // By name: the deploy bundle carries its own copy of ConvexError.
      const errorData = error instanceof Error && error.name === ConvexError.name ? { errorData: convexToJson((error as ConvexError<Value>).data) } : {};
      return json(560, { status: "error", errorMessage: String(error instanceof Error ? error.message : error), ...errorData, logLines: [] });
    }
  };

  return { fetch, requests };
}
