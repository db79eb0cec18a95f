import { excerpt, type Secrets } from "../secrets";

/**
 * What came of a request to GitHub
 * (docs/contract.md#github-both-ways-the-app-comments-in-replies-and-check-runs-out):
 * - `ok`: a 2xx, with its JSON body (null when empty) and, for a page of a
 *   list, its `link` header (the next page's URL, as `rel="next"`);
 * - `retry`: worth sending again, after `retryAfterMs` when GitHub said how
 *   long (a network error, no answer in time, a 5xx, a 429, a 403 that is a
 *   rate limit); `uncertain` when GitHub may have acted all the same (a
 *   comment may already be posted);
 * - `failed`: refused for good (any other 4xx), with its status, or a
 *   deployment that cannot sign (no status).
 * `error` is masked of every secret before it is cut (src/secrets.ts), and short.
 */
export type GithubAnswer =
  | { kind: "ok"; status: number; body: unknown; link?: string }
  | { kind: "retry"; error: string; retryAfterMs?: number; uncertain?: true }
  | { kind: "failed"; status?: number; error: string };

/** The most of an answer that is read: GitHub's largest answers here (a page of hook deliveries, an echoed comment) are far smaller. */
export const MAX_ANSWER_BYTES = 1024 * 1024;
const MAX_ERROR_CHARS = 300;
const MAX_LINK_CHARS = 2000;
/** GitHub asks for at least a minute's wait after a secondary rate limit that does not say how long. */
const DEFAULT_RATE_LIMIT_WAIT_MS = 60_000;
const MAX_WAIT_MS = 60 * 60_000;

const bounded = (ms: number) => Math.min(Math.max(ms, 1000), MAX_WAIT_MS);

/** `retry-after` in ms (GitHub sends seconds), or undefined when absent or unreadable. */
function retryAfterMs(header: string | null): number | undefined {
  return header !== null && /^\s*\d{1,9}\s*$/.test(header) ? bounded(Number(header) * 1000) : undefined;
}

/** Until `x-ratelimit-reset` (epoch seconds), when the answer says the limit is spent (`x-ratelimit-remaining: 0`). */
function rateLimitResetMs(headers: Headers, now: number): number | undefined {
  if (headers.get("x-ratelimit-remaining")?.trim() !== "0") {
    return undefined;
  }
  const reset = headers.get("x-ratelimit-reset");
  return reset !== null && /^\s*\d{1,12}\s*$/.test(reset) ? bounded(Number(reset) * 1000 - now) : DEFAULT_RATE_LIMIT_WAIT_MS;
}

/** At most `limit` bytes of the body as text; null when there are more. */
async function boundedText(response: Response, limit: number): Promise<string | null> {
  if (response.body === null) {
    return "";
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      return text + decoder.decode();
    }
    bytes += value.length;
    if (bytes > limit) {
      await reader.cancel();
      return null;
    }
    text += decoder.decode(value, { stream: true });
  }
}

function parsedJson(text: string): unknown {
  try {
    return text.length === 0 ? null : (JSON.parse(text) as unknown);
  } catch {
    return undefined;
  }
}

/** GitHub's `message` (its error bodies are `{ message, documentation_url, errors? }`), else the text itself. */
function messageOf(text: string): string {
  const body = parsedJson(text);
  if (typeof body === "object" && body !== null && "message" in body && typeof body.message === "string") {
    return body.message;
  }
  return text;
}

/**
 * Reads GitHub's answer: a 2xx as its JSON, anything else as what to do
 * about it, the error masked of every secret and then cut.
 */
export async function readAnswer(
  response: Response,
  context: { secrets: Secrets; mayHaveActed: boolean; now: number },
): Promise<GithubAnswer> {
  const { status, headers } = response;
  const text = await boundedText(response, MAX_ANSWER_BYTES);
  if (status >= 200 && status < 300) {
    // GitHub has acted: an answer too large or not JSON is read as an empty one, never sent again.
    const body = (text === null ? undefined : parsedJson(text)) ?? null;
    const link = headers.get("link");
    return link === null ? { kind: "ok", status, body } : { kind: "ok", status, body, link: link.slice(0, MAX_LINK_CHARS) };
  }
  const requestId = headers.get("x-github-request-id");
  const said = text === null ? `an answer over ${MAX_ANSWER_BYTES} bytes` : messageOf(text);
  const error = excerpt(`HTTP ${status}${requestId === null ? "" : ` (request ${requestId})`}: ${said}`, MAX_ERROR_CHARS, context.secrets);
  const rateLimited = status === 429 || status === 403 ? (rateLimitResetMs(headers, context.now) ?? retryAfterMs(headers.get("retry-after"))) : undefined;
  if (status === 429) {
    return { kind: "retry", error, retryAfterMs: rateLimited ?? DEFAULT_RATE_LIMIT_WAIT_MS };
  }
  if (rateLimited !== undefined) {
    return { kind: "retry", error, retryAfterMs: rateLimited };
  }
  if (status >= 500) {
    return context.mayHaveActed ? { kind: "retry", error, uncertain: true } : { kind: "retry", error };
  }
  return { kind: "failed", status, error };
}
