import { retryAfterMs } from "../slack/webApi";
import { signEventRequest } from "./sign";

/*
 * One events-out request (docs/contract.md#events-out-telling-jangars-server-what-happened):
 * signed for this attempt (its webhook-timestamp is now), posted to
 * JANGAR_EVENTS_URL, and its answer read as the contract says: 2xx is
 * sent; a network error, no answer within the timeout, 408, 429 (with its
 * Retry-After) and 5xx are worth another attempt; anything else fails the
 * event. An answer is kept as its status and a short code, never its body.
 *
 *   const answer = await sendEvent({ url, keys, timeoutMs: 10_000 }, { id, body });
 */

export type EventAnswer =
  | { kind: "sent"; httpStatus: number }
  | { kind: "retry"; error: string; httpStatus?: number; retryAfterMs?: number; uncertain?: true }
  | { kind: "failed"; error: string; httpStatus: number };

export type EventsConfig = {
  url: string;
  /** The keys of JANGAR_EVENTS_SECRET (eventSigningKeys): each signs. */
  keys: readonly Uint8Array[];
  timeoutMs: number;
};

/** One event as it is sent: its webhook-id (the same on every attempt) and its body (the exact bytes signed). */
export type OutgoingEvent = { id: string; body: string };

/** Answers that say "not now": the request timed out at the receiver, too many requests, or the receiver is failing. */
function transient(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Posts one event, signed for this attempt, and reads the answer. */
export async function sendEvent(config: EventsConfig, event: OutgoingEvent, fetchImpl: typeof fetch = fetch): Promise<EventAnswer> {
  const headers = await signEventRequest(config.keys, { id: event.id, timestamp: Math.floor(Date.now() / 1000), body: event.body });
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), config.timeoutMs);
  let response: Response;
  try {
    response = await fetchImpl(config.url, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...headers },
      body: event.body,
      signal: controller.signal,
    });
    // The body is not read: a receiver's answer may hold anything, and only its status counts.
    await response.body?.cancel();
  } catch (error) {
    const timedOut = controller.signal.aborted;
    return {
      kind: "retry",
      uncertain: true,
      error: timedOut ? `no_answer: none within ${config.timeoutMs} ms` : `unreachable: ${error instanceof TypeError ? "network error" : "request failed"}`,
    };
  } finally {
    clearTimeout(timer);
  }
  const { status } = response;
  if (status >= 200 && status < 300) {
    return { kind: "sent", httpStatus: status };
  }
  if (transient(status)) {
    const retryAfter = status === 429 || status === 503 ? retryAfterMs(response.headers.get("retry-after")) : undefined;
    return { kind: "retry", error: `http_${status}`, httpStatus: status, ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter }) };
  }
  return { kind: "failed", error: `http_${status}`, httpStatus: status };
}
