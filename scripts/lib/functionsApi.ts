import { convexToJson, jsonToConvex, type JSONValue, type Value } from "convex/values";

/**
 * Calls a deployment's function over Convex's functions API with an admin
 * key, as `npx convex run` does (`POST /api/function`, `Authorization:
 * Convex <admin key>`), so that internal functions answer. For the tools
 * that ask a deployment something (`npm run doctor`).
 */

export class FunctionsApiError extends Error {
  constructor(
    message: string,
    readonly kind: "unreachable" | "refused" | "failed",
  ) {
    super(message);
    this.name = "FunctionsApiError";
  }
}

export async function runAsAdmin(url: string, adminKey: string, path: string, args: Record<string, Value> = {}, doFetch: typeof fetch = fetch): Promise<Value> {
  let response: Response;
  try {
    response = await doFetch(`${url.replace(/\/+$/, "")}/api/function`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Convex ${adminKey}` },
      body: JSON.stringify({ path, format: "convex_encoded_json", args: convexToJson(args) }),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new FunctionsApiError(`nothing answers at ${url} (${cause}): is the deployment up? Locally, start one with npm run serve or npm run dev.`, "unreachable");
  }
  const text = await response.text();
  let answer: { status?: string; value?: JSONValue; errorMessage?: string; code?: string; message?: string };
  try {
    answer = JSON.parse(text) as typeof answer;
  } catch {
    throw new FunctionsApiError(`${url} answered ${response.status} with something other than Convex's JSON: is it the deployment's URL (…convex.cloud, or port 3210), not its site (…convex.site, 3211)?`, "refused");
  }
  if (answer.status === "success") {
    return jsonToConvex(answer.value ?? null);
  }
  if (answer.status === "error") {
    throw new FunctionsApiError(answer.errorMessage ?? "the function failed", "failed");
  }
  const why = answer.message ?? answer.code ?? text.slice(0, 200);
  throw new FunctionsApiError(
    response.status === 401 || response.status === 403 || /admin key|BadAdminKey|Unauthorized/i.test(text)
      ? `the deployment refused the admin key (${why})`
      : `${url} answered ${response.status}: ${why}`,
    "refused",
  );
}
