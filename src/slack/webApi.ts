import { truncate } from "../text";

/**
 * The calls this service makes to Slack's Web API (docs/contract.md section
 * 4), as a small client that runs wherever `fetch` does. It never logs, and
 * no answer it returns holds the token.
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
export type SlackCall = { method: "chat.postMessage" | "chat.update"; args: Record<string, unknown> };

/**
 * What came of a call: done (with the message's `ts`), worth retrying (the
 * network, Slack busy or rate-limiting, with the wait Slack asked for), or
 * refused for good (Slack's error code, e.g. `channel_not_found`).
 */
export type SlackAnswer =
  | { kind: "ok"; ts?: string }
  | { kind: "retry"; error: string; retryAfterMs?: number }
  | { kind: "failed"; error: string };

// Slack's error codes that say "not now" rather than "never".
const TRANSIENT_ERRORS = new Set(["ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"]);

const MAX_RETRY_AFTER_SECONDS = 3600;

/** Retry-After in ms (seconds, as Slack sends it), bounded to an hour; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null): number | undefined {
  if (header === null || !/^\s*\d{1,9}\s*$/.test(header)) {
    return undefined;
  }
  return Math.min(Math.max(Number(header), 1), MAX_RETRY_AFTER_SECONDS) * 1000;
}

/** Makes one call; the answer's error never holds the token, whatever came back. */
export async function callSlack(config: SlackConfig, call: SlackCall, fetchImpl: typeof fetch = fetch): Promise<SlackAnswer> {
  const answer = await request(config, call, fetchImpl);
  return answer.kind === "ok" ? answer : { ...answer, error: answer.error.replaceAll(config.token, "[SLACK_BOT_TOKEN]") };
}

async function request(config: SlackConfig, call: SlackCall, fetchImpl: typeof fetch): Promise<SlackAnswer> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), config.timeoutMs);
  let status: number;
  let retryAfter: string | null;
  let text: string;
  try {
    const response = await fetchImpl(`${config.baseUrl.replace(/\/+$/, "")}/${call.method}`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${config.token}`,
        "Content-Type": "application/json; charset=utf-8",
      },
      body: JSON.stringify(call.args),
      signal: controller.signal,
    });
    status = response.status;
    retryAfter = response.headers.get("retry-after");
    text = await response.text();
  } catch (error) {
    return {
      kind: "retry",
      error: controller.signal.aborted
        ? `Slack did not answer within ${config.timeoutMs} ms.`
        : `Slack is unreachable: ${error instanceof Error ? error.message : String(error)}`,
    };
  } finally {
    clearTimeout(timer);
  }
  if (status === 429) {
    return { kind: "retry", error: "ratelimited (HTTP 429)", retryAfterMs: retryAfterMs(retryAfter) };
  }
  if (status >= 500) {
    return { kind: "retry", error: `Slack answered HTTP ${status}.` };
  }
  let answer: { ok?: unknown; error?: unknown; ts?: unknown } | null = null;
  try {
    const parsed: unknown = JSON.parse(text);
    answer = typeof parsed === "object" && parsed !== null ? parsed : null;
  } catch {
    // Read below as an answer that is not Slack's.
  }
  if (status !== 200 || answer === null) {
    return { kind: "failed", error: `Slack answered HTTP ${status} without a Web API answer: ${truncate(text, 200)}` };
  }
  if (answer.ok === true) {
    return typeof answer.ts === "string" ? { kind: "ok", ts: answer.ts } : { kind: "ok" };
  }
  const error = typeof answer.error === "string" ? truncate(answer.error, 100) : "an answer without ok: true";
  return TRANSIENT_ERRORS.has(error)
    ? { kind: "retry", error, retryAfterMs: retryAfterMs(retryAfter) }
    : { kind: "failed", error };
}
