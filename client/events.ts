import { Webhook, WebhookVerificationError } from "svix";
import { EVENT_DATA, EVENT_TYPES, eventTimestamp, type JangarEvent } from "../src/events/types";
import { EVENTS_SECRET_SETTING, eventSigningKeys } from "../src/events/sign";
import { summarizeIssues } from "../src/sources/zodIssues";

/*
 * Receiving events out (docs/server.md#receiving-events-over-http): the raw
 * body and headers of a request from the deployment in, the typed event out,
 * or one error type whose `check` and message say which check failed. The
 * signature and timestamp are checked by svix's Standard Webhooks
 * verification, under each secret of JANGAR_EVENTS_SECRET (a rotation).
 *
 *   const verifier = eventVerifier(process.env.JANGAR_EVENTS_SECRET!);
 *   try {
 *     const { id, event } = verifier.verify(rawBody, request.headers);
 *     // id: the same on every retry of this event
 *   } catch (error) {
 *     if (error instanceof EventVerificationError) return new Response(error.message, { status: error.status });
 *   }
 */

/** Which check a request failed. */
export type EventCheck = "headers" | "timestamp" | "signature" | "body" | "type" | "data";

export class EventVerificationError extends Error {
  constructor(
    readonly check: EventCheck,
    message: string,
  ) {
    super(`Event not verified (${check}): ${message}`);
    this.name = "EventVerificationError";
  }

  /** The HTTP status to answer with, as the deployment's own webhook routes do: 401 for a signature or timestamp, else 400. */
  get status(): 400 | 401 {
    return this.check === "signature" || this.check === "timestamp" ? 401 : 400;
  }
}

export type VerifiedEvent = {
  /** `webhook-id`: unique per event and the same on every retry, so a receiver acts on each id once. */
  id: string;
  event: JangarEvent;
};

/** Request headers as a Fetch `Headers`, or as a record (Node's `IncomingHttpHeaders`). */
export type EventHeaders = Headers | Record<string, string | string[] | undefined>;

const HEADER_NAMES = ["webhook-id", "webhook-timestamp", "webhook-signature"] as const;
const fatalUtf8 = new TextDecoder("utf-8", { fatal: true });

function standardHeaders(headers: EventHeaders): Record<(typeof HEADER_NAMES)[number], string> {
  const read = (name: string): string | undefined => {
    if (headers instanceof Headers) return headers.get(name) ?? undefined;
    const entry = Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
    if (Array.isArray(entry)) throw new EventVerificationError("headers", `${name} is sent more than once.`);
    return entry;
  };
  const found: Partial<Record<(typeof HEADER_NAMES)[number], string>> = {};
  for (const name of HEADER_NAMES) {
    const value = read(name) ?? read(name.replace("webhook-", "svix-"));
    if (value === undefined || value === "") {
      throw new EventVerificationError("headers", `${name} is missing: an events-out request carries webhook-id, webhook-timestamp and webhook-signature.`);
    }
    found[name] = value;
  }
  return found as Record<(typeof HEADER_NAMES)[number], string>;
}

/** svix's verification error, as the check it reports. */
function failedCheck(error: WebhookVerificationError): EventVerificationError {
  if (/timestamp too (old|new)/i.test(error.message)) {
    return new EventVerificationError(
      "timestamp",
      `webhook-timestamp is not within five minutes of now (${error.message}): a replayed or delayed request, or a clock out of sync.`,
    );
  }
  if (/Invalid Signature Headers/i.test(error.message)) {
    return new EventVerificationError("timestamp", "webhook-timestamp is not Unix seconds.");
  }
  if (/Missing required headers/i.test(error.message)) {
    return new EventVerificationError("headers", "webhook-id, webhook-timestamp and webhook-signature are required.");
  }
  return new EventVerificationError(
    "signature",
    `no signature in webhook-signature matches a secret of ${EVENTS_SECRET_SETTING}: give Jangar's server the deployment's JANGAR_EVENTS_SECRET.`,
  );
}

/**
 * A verifier for the deployment's JANGAR_EVENTS_SECRET (`whsec_...`, or
 * several space-separated during a rotation: a request signed by any one
 * verifies). A secret that is not one is a TypeError naming it.
 */
export function eventVerifier(secrets: string) {
  const keys = eventSigningKeys(secrets);
  if (!keys.ok) {
    throw new TypeError(keys.message);
  }
  const webhooks = keys.value.map((key) => new Webhook(key, { format: "raw" }));

  /** The event of a request from the deployment; an EventVerificationError saying which check failed otherwise. */
  function verify(body: string | Uint8Array, headers: EventHeaders): VerifiedEvent {
    const found = standardHeaders(headers);
    let text: string;
    try {
      text = typeof body === "string" ? body : fatalUtf8.decode(body);
    } catch {
      throw new EventVerificationError("body", "the body is not UTF-8.");
    }
    let payload: unknown;
    let failure: EventVerificationError | undefined;
    for (const webhook of webhooks) {
      try {
        payload = webhook.verify(text, found);
        failure = undefined;
        break;
      } catch (error) {
        if (error instanceof WebhookVerificationError) {
          failure = failedCheck(error);
          if (failure.check !== "signature") break;
        } else {
          // Verified, but svix's JSON.parse failed.
          throw new EventVerificationError("body", "the body is not JSON.");
        }
      }
    }
    if (failure !== undefined) {
      throw failure;
    }
    return { id: found["webhook-id"], event: parseEvent(payload) };
  }

  return { verify };
}

/** A verified body as the typed event it says it is. */
export function parseEvent(payload: unknown): JangarEvent {
  const envelope = payload as { type?: unknown; timestamp?: unknown; data?: unknown } | null;
  if (typeof envelope !== "object" || envelope === null || Array.isArray(envelope)) {
    throw new EventVerificationError("body", "the body is not a { type, timestamp, data } object.");
  }
  const { type } = envelope;
  if (typeof type !== "string" || !(EVENT_TYPES as string[]).includes(type)) {
    throw new EventVerificationError("type", `type ${JSON.stringify(type)} is not an event type this client knows (${EVENT_TYPES.join(", ")}); update the service client.`);
  }
  const timestamp = eventTimestamp.safeParse(envelope.timestamp);
  if (!timestamp.success) {
    throw new EventVerificationError("body", `timestamp must be ISO 8601; got ${JSON.stringify(envelope.timestamp)}.`);
  }
  const data = EVENT_DATA[type as keyof typeof EVENT_DATA].safeParse(envelope.data);
  if (!data.success) {
    throw new EventVerificationError("data", `the ${type} event's data is invalid: ${summarizeIssues(data.error, "data")}`);
  }
  return { type, timestamp: timestamp.data, data: data.data } as JangarEvent;
}
