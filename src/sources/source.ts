import type { Interpretation } from "../commands";

export const SOURCES = ["github", "slack", "events"] as const;
export type SourceName = (typeof SOURCES)[number];

/** A webhook request as received: headers and the raw body bytes, read once. */
export type InboundRequest = { headers: Headers; body: Uint8Array; receivedAt: number };

/** A verified delivery as the inbox keeps it. */
export type StoredDelivery = {
  deliveryKey: string;
  body: Uint8Array;
  contentType: string;
  event: string;
};

/** 503 is for a secret that is set but unusable: the deployment's fault, not the sender's. */
export type RejectStatus = 400 | 401 | 415 | 503;

/** The deployment settings a source reads besides its secret (docs/contract.md section 6). */
export type Settings = Readonly<Record<string, string | undefined>>;

/** What the receiving endpoint answers before anything is stored. */
export type Admission =
  | { kind: "reject"; status: RejectStatus; error: string }
  | {
      kind: "deliver";
      /** Deduplication key (docs/contract.md section 3). */
      deliveryKey: string;
      /** The sender's event name: `push`, `app_mention`, `work_order.status.changed`, ... */
      event: string;
      /** The event's action where the sender has one (GitHub's `closed`, `opened`, ...). */
      action?: string;
      contentType: string;
      /** Set when the delivery is verified but nothing here acts on it. */
      ignored?: string;
      /** The answer the sender expects instead of the usual one (Slack's url_verification challenge). */
      reply?: Record<string, unknown>;
    };

/**
 * One sender: pure code, no Convex. `admit` verifies and classifies a
 * request (content type, headers, signature, JSON, shape); `interpret` turns
 * a stored, verified body into commands. Both are deterministic, so a
 * replayed delivery is interpreted as it was the first time.
 */
export type WebhookSource = {
  name: SourceName;
  /** Where the deployment receives this sender's webhooks. */
  path: `/webhooks/${SourceName}`;
  /** The deployment setting holding the secret (several, space-separated, where the source allows rotation). */
  secretVariable: string;
  /** Other settings the source reads; they are passed in, so the source stays pure. */
  settingNames: readonly string[];
  admit(request: InboundRequest, secret: string, settings: Settings): Promise<Admission>;
  /** Throws UninterpretableDelivery for a body that does not read as its event. */
  interpret(delivery: StoredDelivery, settings: Settings): Interpretation;
};

const MAX_KEY_CHARS = 512;
const MAX_NAME_CHARS = 200;

/**
 * Why a delivery's key, event or action (values from the request, stored on
 * the delivery row) cannot be stored as given, or null when they can.
 */
export function deliveryFieldsProblem(delivery: { deliveryKey: string; event: string; action?: string }): string | null {
  if (delivery.deliveryKey.length > MAX_KEY_CHARS) {
    return `The delivery id is ${delivery.deliveryKey.length} characters long; the limit is ${MAX_KEY_CHARS}.`;
  }
  for (const [what, value] of [["event type", delivery.event], ["action", delivery.action]] as const) {
    if (value !== undefined && value.length > MAX_NAME_CHARS) {
      return `The ${what} is ${value.length} characters long; the limit is ${MAX_NAME_CHARS}.`;
    }
  }
  return null;
}

/**
 * What `interpret` throws for a stored body it cannot read as its event:
 * final, since interpreting is deterministic. Any other error is taken to be
 * of the moment, and the delivery is retried.
 */
export class UninterpretableDelivery extends Error {
  constructor(source: SourceName, why: string) {
    super(`A stored ${source} delivery no longer reads: ${why}`);
    this.name = "UninterpretableDelivery";
  }
}

export function reject(status: RejectStatus, error: string): Admission {
  return { kind: "reject", status, error };
}

// ignoreBOM keeps a leading byte-order mark in the text, so that the text
// encodes back to exactly the bytes that were signed.
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The body as text, every byte of it, or null when it is not valid UTF-8. */
export function utf8Text(body: Uint8Array): string | null {
  try {
    return strictUtf8.decode(body);
  } catch {
    return null;
  }
}

/** The media type of a Content-Type header, lower case, without parameters. */
export function mediaType(contentType: string | null): string {
  return (contentType ?? "").split(";")[0].trim().toLowerCase();
}

/** Parsed JSON, or undefined when the text is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
