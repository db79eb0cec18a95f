/**
 * How the fake GitHub API (`fakes/github.ts`) reads a request's body and words its answers: a status
 * with a JSON body, GitHub's error bodies (each with its
 * `documentation_url`), its timestamps, and the headers every answer carries.
 *
 * ```ts
 * import { githubResponse, notFound, validationFailed } from "./githubAnswers";
 *
 * githubResponse(notFound(), "FAKE:000001");   // 404 {"message":"Not Found",...}
 * validationFailed("IssueComment", "body", "body can't be blank");   // 422, as GitHub validates
 * ```
 */

export const DOCS = "https://docs.github.com/rest";

/** One answer before it becomes a Response: a status, a JSON body, extra headers. */
export type Answer = { status: number; body: unknown; headers?: Record<string, string> };

export const json = (status: number, body: unknown, headers?: Record<string, string>): Answer => ({ status, body, headers });

export const notFound = (): Answer => json(404, { message: "Not Found", documentation_url: DOCS });

/** GitHub's 422 for a field it refuses. */
export const validationFailed = (resource: string, field: string, message: string): Answer =>
  json(422, { message: "Validation Failed", errors: [{ resource, code: "custom", field, message }], documentation_url: DOCS });

/** GitHub's timestamps: ISO 8601 to the second. */
export const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/** The answer as GitHub sends it: JSON (no body for 204 and 304), with its `x-github-request-id`. */
export function githubResponse(answer: Answer, requestId: string): Response {
  const headers = {
    "content-type": "application/json; charset=utf-8",
    "x-github-request-id": requestId,
    ...answer.headers,
  };
  const empty = answer.status === 204 || answer.status === 304;
  return new Response(empty ? null : JSON.stringify(answer.body), { status: answer.status, headers });
}

/** A request's body as GitHub reads it: JSON when it parses, else its text; null when empty. */
export function jsonOrText(body: string): unknown {
  if (body.length === 0) {
    return null;
  }
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}
