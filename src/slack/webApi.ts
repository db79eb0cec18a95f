import { excerpt } from "../secrets";

/**
 * The calls this service makes to Slack's Web API (docs/contract.md section
 * 4), as a small client that runs wherever `fetch` does. It never logs, and
 * no answer it returns holds the token or any piece of it: whatever Slack
 * answers is masked before it is cut (src/secrets.ts).
 */

export const SLACK_API_URL = "https://slack.com/api";

export type SlackConfig = {
  /** The bot token (`xoxb-...`), sent as `Authorization: Bearer`. */
  token: string;
  /** `https://slack.com/api`, or a local fake's. */
  baseUrl: string;
  timeoutMs: number;
};

/** A request to make: a Web API method and its JSON arguments. */
export type SlackCall = { method: "chat.postMessage" | "chat.update" | "chat.postEphemeral"; args: Record<string, unknown> };

/**
 * What came of a call: done (with the message's `ts`), worth retrying (the
 * network, Slack busy or rate-limiting, with the wait Slack asked for), or
 * refused for good (Slack's error code, e.g. `channel_not_found`). A retry
 * is `uncertain` when Slack may have carried the request out all the same
 * (no answer, a 5xx, `internal_error`): a post may already be in the thread.
 */
export type SlackAnswer =
  | { kind: "ok"; ts?: string }
  | { kind: "retry"; error: string; retryAfterMs?: number; uncertain?: true }
  | { kind: "failed"; error: string };

// Slack's error codes that say "not now" rather than "never", those that say "too many requests", and those after which Slack may have acted.
const TRANSIENT_ERRORS = new Set(["ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"]);
const RATE_LIMIT_ERRORS = new Set(["ratelimited", "rate_limited"]);
const UNCERTAIN_ERRORS = new Set(["internal_error", "fatal_error"]);

const MAX_RETRY_AFTER_SECONDS = 3600;

/** Retry-After in ms (seconds, as Slack sends it), bounded to an hour; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null): number | undefined {
  if (header === null || !/^\s*\d{1,9}\s*$/.test(header)) {
    return undefined;
  }
  return Math.min(Math.max(Number(header), 1), MAX_RETRY_AFTER_SECONDS) * 1000;
}

type Failure = Exclude<SlackAnswer, { kind: "ok" }>;
/** Slack refused the request as one too many (HTTP 429, `ratelimited`): it was not carried out. */
type RateLimited = Extract<Failure, { kind: "retry" }> & { rateLimited: true };

/** Slack's answer with `ok: true`, as JSON. */
type Answered = { kind: "answered"; body: Record<string, unknown> };

/**
 * One request to `<baseUrl>/<path>` with the bearer token, read as Slack's
 * Web API answers: `ok: true` with its body, or what to do about it.
 */
async function exchange(config: SlackConfig, path: string, init: RequestInit, fetchImpl: typeof fetch): Promise<Answered | RateLimited | Failure> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), config.timeoutMs);
  let status: number;
  let retryAfter: string | null;
  let text: string;
  try {
    const response = await fetchImpl(`${config.baseUrl.replace(/\/+$/, "")}/${path}`, {
      ...init,
      headers: { Authorization: `Bearer ${config.token}`, ...init.headers },
      signal: controller.signal,
    });
    status = response.status;
    retryAfter = response.headers.get("retry-after");
    text = await response.text();
  } catch (error) {
    return {
      kind: "retry",
      uncertain: true,
      error: controller.signal.aborted
        ? `Slack did not answer within ${config.timeoutMs} ms.`
        : `Slack is unreachable: ${excerpt(error instanceof Error ? error.message : String(error), 500, { SLACK_BOT_TOKEN: config.token })}`,
    };
  } finally {
    clearTimeout(timer);
  }
  if (status === 429) {
    return { kind: "retry", rateLimited: true, error: "ratelimited (HTTP 429)", retryAfterMs: retryAfterMs(retryAfter) };
  }
  if (status >= 500) {
    return { kind: "retry", uncertain: true, error: `Slack answered HTTP ${status}.` };
  }
  let body: Record<string, unknown> | null = null;
  try {
    const parsed: unknown = JSON.parse(text);
    body = typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    // Read below as an answer that is not Slack's.
  }
  if (status !== 200 || body === null) {
    return { kind: "failed", error: `Slack answered HTTP ${status} without a Web API answer: ${excerpt(text, 200, { SLACK_BOT_TOKEN: config.token })}` };
  }
  if (body.ok === true) {
    return { kind: "answered", body };
  }
  const error = typeof body.error === "string" ? excerpt(body.error, 100, { SLACK_BOT_TOKEN: config.token }) : "an answer without ok: true";
  if (!TRANSIENT_ERRORS.has(error)) {
    return { kind: "failed", error };
  }
  const retry: Failure = { kind: "retry", error, retryAfterMs: retryAfterMs(retryAfter) };
  if (RATE_LIMIT_ERRORS.has(error)) {
    return { ...retry, rateLimited: true };
  }
  return UNCERTAIN_ERRORS.has(error) ? { ...retry, uncertain: true } : retry;
}

/** A rate limit as any other wait. */
function withoutRateLimit(answer: RateLimited | Failure): Failure {
  if ("rateLimited" in answer) {
    const { rateLimited: _rateLimited, ...retry } = answer;
    return retry;
  }
  return answer;
}

/** Makes one call; nothing of the answer it returns holds a piece of the token, whatever came back. */
export async function callSlack(config: SlackConfig, call: SlackCall, fetchImpl: typeof fetch = fetch): Promise<SlackAnswer> {
  const answer = await exchange(
    config,
    call.method,
    { method: "POST", headers: { "Content-Type": "application/json; charset=utf-8" }, body: JSON.stringify(call.args) },
    fetchImpl,
  );
  if (answer.kind !== "answered") {
    return withoutRateLimit(answer);
  }
  return typeof answer.body.ts === "string" ? { kind: "ok", ts: excerpt(answer.body.ts, 64, { SLACK_BOT_TOKEN: config.token }) } : { kind: "ok" };
}

/**
 * The `metadata` a post carries so that it can be found again: Slack has no
 * idempotency key, so after a post whose outcome is unknown the thread is
 * searched for this marker before posting again.
 */
export const POST_MARKER_TYPE = "jangar_outbox_post";

export function postMarker(marker: string) {
  return { event_type: POST_MARKER_TYPE, event_payload: { post: marker } };
}

/**
 * Where to look for a post: its thread, a Slack ts before which it cannot
 * have been made, its marker, and the bot's user id (`SLACK_BOT_USER_ID`),
 * when known, whose messages alone are the bot's.
 */
export type PostSought = { channel: string; threadTs: string; oldest: string; marker: string; botUser?: string };

/**
 * Whether Slack holds the post (and its ts), or what kept us from knowing;
 * `rateLimited` when Slack refused the read as one too many (it allows apps
 * outside its Marketplace about one a minute).
 */
export type PostSearch = { kind: "found"; ts: string } | { kind: "notFound" } | { kind: "rateLimited"; retryAfterMs?: number } | Failure;

// conversations.replies answers at most 15 messages a call for apps outside the Slack Marketplace.
const REPLIES_PER_READ = 15;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The ts of the bot's own message carrying the post's marker, among those
 * Slack answered with: a message a person (or another app) wrote is never
 * taken for the bot's post, whatever metadata it carries.
 */
function markedPost(messages: unknown, sought: PostSought): string | undefined {
  if (!Array.isArray(messages)) {
    return undefined;
  }
  for (const message of messages.slice(0, REPLIES_PER_READ * 2)) {
    if (!isRecord(message) || typeof message.ts !== "string" || typeof message.bot_id !== "string") {
      continue;
    }
    const metadata = message.metadata;
    if (
      (sought.botUser === undefined || message.user === sought.botUser) &&
      isRecord(metadata) &&
      metadata.event_type === POST_MARKER_TYPE &&
      isRecord(metadata.event_payload) &&
      metadata.event_payload.post === sought.marker
    ) {
      return message.ts;
    }
  }
  return undefined;
}

/**
 * Looks for the bot's post by its marker among the thread's first messages
 * since `oldest` (`conversations.replies`, a read method: GET with its
 * arguments in the query): one read, whatever the thread holds, since Slack
 * may allow one a minute. Slack answers a thread's replies oldest first, so
 * a post made soon after `oldest` is in it however busy the thread is
 * later. Nothing it returns holds a piece of the token.
 */
export async function findPost(config: SlackConfig, sought: PostSought, fetchImpl: typeof fetch = fetch): Promise<PostSearch> {
  const query = new URLSearchParams({
    channel: sought.channel,
    ts: sought.threadTs,
    oldest: sought.oldest,
    inclusive: "true",
    limit: String(REPLIES_PER_READ),
    include_all_metadata: "true",
  });
  const answer = await exchange(config, `conversations.replies?${query}`, { method: "GET" }, fetchImpl);
  if (answer.kind === "answered") {
    const ts = markedPost(answer.body.messages, sought);
    return ts === undefined ? { kind: "notFound" } : { kind: "found", ts: excerpt(ts, 64, { SLACK_BOT_TOKEN: config.token }) };
  }
  if ("rateLimited" in answer) {
    return answer.retryAfterMs === undefined ? { kind: "rateLimited" } : { kind: "rateLimited", retryAfterMs: answer.retryAfterMs };
  }
  return answer;
}
