import type { convexTest } from "convex-test";
import { makeFunctionReference } from "convex/server";
import { convexToJson, jsonToConvex, type JSONValue, type Value } from "convex/values";
import { findFunction, type Modules } from "../modules";
import { AuthRefused, callerOf, type Caller } from "./auth";

/**
 * Convex's functions API, as `ConvexHttpClient` and `npx convex run` call it:
 *
 *   POST /api/query | /api/mutation | /api/action
 *        { path, format: "convex_encoded_json", args: [ {...} ] }
 *   POST /api/function   (`convex run`: any kind)
 *        { path, format: "convex_encoded_json", args: {...}, componentPath? }
 *
 * answered 200 `{ status: "success", value, logLines }`, or 560
 * `{ status: "error", errorMessage, errorData?, logLines }` when the function
 * throws (errorData carries a ConvexError's data, which the client turns back
 * into a ConvexError). A request the API cannot take is answered 400/401
 * with `{ code, message }`, which the client throws as an Error. Internal
 * functions answer only to the admin key.
 */

export type Backend = ReturnType<typeof convexTest>;

export type ApiAnswer = { status: number; body: Record<string, unknown> };

/** The status Convex answers a function that threw (the client's STATUS_CODE_UDF_FAILED). */
export const FUNCTION_FAILED = 560;

const KINDS = { "/api/query": "query", "/api/mutation": "mutation", "/api/action": "action", "/api/function": "any" } as const;
type Kind = (typeof KINDS)[keyof typeof KINDS];

export const FUNCTION_ROUTES = Object.keys(KINDS);

const refuse = (status: number, code: string, message: string): ApiAnswer => ({ status, body: { code, message } });
const failed = (errorMessage: string, errorData?: JSONValue): ApiAnswer => ({
  status: FUNCTION_FAILED,
  body: { status: "error", errorMessage, ...(errorData === undefined ? {} : { errorData }), logLines: [] },
});

type Call = { kind: Kind; path: string; args: Record<string, Value> };

function callOf(route: string, text: string): Call | ApiAnswer {
  const kind = KINDS[route as keyof typeof KINDS];
  let request: { path?: unknown; format?: unknown; args?: unknown; componentPath?: unknown };
  try {
    request = JSON.parse(text) as typeof request;
  } catch {
    return refuse(400, "BadJsonBody", "The body is not JSON: send { path, format: \"convex_encoded_json\", args }.");
  }
  if (typeof request.path !== "string" || request.path === "") {
    return refuse(400, "BadRequest", "The body needs \"path\", the function's name (module:export), e.g. \"chatSessions:create\".");
  }
  if (request.format !== undefined && request.format !== "convex_encoded_json" && request.format !== "json") {
    return refuse(400, "BadRequest", `format ${JSON.stringify(request.format)} is not supported: use "convex_encoded_json".`);
  }
  if (typeof request.componentPath === "string" && request.componentPath !== "") {
    return refuse(400, "BadRequest", "This backend has no components: leave componentPath out.");
  }
  const raw = kind === "any" ? request.args : Array.isArray(request.args) ? request.args[0] : request.args;
  const args = jsonToConvex((raw ?? {}) as JSONValue);
  if (typeof args !== "object" || args === null || Array.isArray(args)) {
    return refuse(400, "BadRequest", "The function's arguments must be an object.");
  }
  return { kind, path: request.path, args: args as Record<string, Value> };
}

/** The ConvexError data of an error thrown by a function, if it is one. */
function convexErrorData(error: unknown): JSONValue | undefined {
  if (error instanceof Error && error.name === "ConvexError" && "data" in error) {
    return convexToJson((error as { data: Value }).data);
  }
  return undefined;
}

/** Answers one request to the functions API. */
export async function answerFunctionCall(
  backend: Backend,
  modules: Modules,
  adminKey: string,
  request: { route: string; authorization: string | undefined; body: string },
): Promise<ApiAnswer> {
  const call = callOf(request.route, request.body);
  if ("status" in call) {
    return call;
  }
  let caller: Caller;
  try {
    caller = callerOf(request.authorization, adminKey);
  } catch (error) {
    if (error instanceof AuthRefused) {
      return refuse(401, error.code, error.message);
    }
    throw error;
  }
  const registered = await findFunction(modules, call.path);
  if (registered === null || (registered.isInternal && !caller.admin)) {
    return failed(`Could not find public function for '${call.path}'. Did you forget to run \`npx convex dev\` or \`npx convex deploy\`?`);
  }
  const kind = registered.isQuery ? "query" : registered.isMutation ? "mutation" : "action";
  if (call.kind !== "any" && call.kind !== kind) {
    return failed(`Trying to execute ${call.path} as a ${call.kind}, but it is defined as a ${kind}: call /api/${kind}.`);
  }
  const as = caller.identity === null ? backend : backend.withIdentity(caller.identity);
  try {
    const value =
      kind === "query"
        ? await as.query(makeFunctionReference<"query">(call.path), call.args)
        : kind === "mutation"
          ? await as.mutation(makeFunctionReference<"mutation">(call.path), call.args)
          : await as.action(makeFunctionReference<"action">(call.path), call.args);
    return { status: 200, body: { status: "success", value: convexToJson((value ?? null) as Value), logLines: [] } };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return failed(message, convexErrorData(error));
  }
}
