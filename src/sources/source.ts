import type { Interpretation } from "../commands";
import type { RequestBody } from "./body";

export const SOURCES = ["github", "slack", "events"] as const;
export type SourceName = (typeof SOURCES)[number];

/** A verified delivery as the inbox keeps it. */
export type StoredDelivery = {
  deliveryKey: string;
  body: Uint8Array;
  contentType: string;
  event: string;
};

/** 503 is for a secret that is set but unusable: the deployment's fault, not the sender's. */
export type RejectStatus = 400 | 401 | 413 | 415 | 503;

/** The deployment settings a source reads besides its secret (docs/contract.md#6-environment). */
export type Settings = Readonly<Record<string, string | undefined>>;

/**
 * How a body of one media type is read: as JSON; as a form of exactly one
 * field, `payload`, holding JSON (GitHub's form-encoded hooks); or as a
 * form's fields, each name at most once, handed to the source as
 * URLSearchParams (Slack's interactivity and slash commands), which no JSON
 * body ever parses to, so a source tells the two readings apart by type.
 */
export type BodyFormat = "json" | "payloadField" | "form";

/** A header every request of a sender carries: its name, or its name and the other spelling senders use. */
export type RequiredHeader = string | readonly [name: string, alias: string];

/** The required headers' values, by the first spelling of each. */
export type HeaderValues = Readonly<Record<string, string>>;

/** A request whose content type and headers are as the source requires, with its body read. */
export type SignedRequest = { headers: HeaderValues; body: RequestBody; receivedAt: number };

/** What a sender signs: the raw body, and the id and time where the scheme signs them. */
export type Signable = { body: Uint8Array; id: string; timestamp: number };

/** What a source makes of a verified payload: the delivery to record. */
export type Delivery = {
  /** Deduplication key (docs/contract.md#3-webhook-routes), made with `deliveryKey`. */
  deliveryKey: string;
  /** The sender's event name: `push`, `app_mention`, `work_order.status.changed`, ... */
  event: string;
  /** The event's action where the sender has one (GitHub's `closed`, `opened`, ...). */
  action?: string;
  /** Set when the delivery is verified but nothing here acts on it. */
  ignored?: string;
  /** The answer the sender expects instead of the usual one (Slack's url_verification challenge). */
  reply?: Record<string, unknown>;
  /**
   * A request whose answer is the outcome of its effects (a Slack slash
   * command): they are applied in the transaction that records it, and
   * `respond` makes the answer from what applying them has to tell.
   */
  atReceipt?: { interpretation: Interpretation; respond: (told: string) => Record<string, unknown> };
};

/** What the receiving endpoint answers before anything is stored. */
export type Admission =
  | { kind: "reject"; status: RejectStatus; error: string }
  /** A sender's check of the endpoint (Slack's ssl_check): answered 200 with this body, nothing stored. */
  | { kind: "answer"; body: Record<string, unknown> }
  | (Delivery & {
      kind: "deliver";
      contentType: string;
      bodyBytes: number;
      /** The body as text: it encodes back to exactly the bytes received. */
      bodyText: string;
    });

/**
 * One sender, as data and pure functions (no Convex). The endpoint checks
 * what the data says (content type, required headers) the same way for every
 * sender; `checkHeaders`, `verify` and `read` throw `Refused` with the answer
 * to give. `interpret` turns a stored, verified body into commands. All are
 * deterministic, so a replayed delivery is interpreted as it was the first time.
 */
export type WebhookSource = {
  name: SourceName;
  /** Where the deployment receives this sender's webhooks. */
  path: `/webhooks/${SourceName}`;
  /** The deployment setting holding the secret (several, space-separated, where the source allows rotation). */
  secretVariable: string;
  /** Other settings the source reads; they are passed in, so the source stays pure. */
  settingNames: readonly string[];
  /** The media types this sender posts, and how each is read; any other is 415. */
  bodies: Readonly<Record<string, BodyFormat>>;
  /** What the 415 answer asks the sender to send. */
  contentTypeAdvice: string;
  /** Headers without which a request is 400. */
  requiredHeaders: readonly RequiredHeader[];
  /** Who posts here, as the 400 for a missing header says it. */
  takes: string;
  /**
   * A request the sender makes only to check the endpoint (Slack's
   * `ssl_check`), recognised by its body before its headers or signature
   * are checked: the answer to give (200, nothing stored), or undefined for
   * any other request. A source with probes has its body read first.
   */
  probe?(body: RequestBody, format: BodyFormat): Record<string, unknown> | undefined;
  /** Checks the form of unsigned header values (delivery ids) before they are used. */
  checkHeaders(headers: HeaderValues): void;
  /** Checks the signature, and the time window where there is one, over the raw bytes. */
  verify(request: SignedRequest, secret: string): Promise<void>;
  /** The headers a sender sets to sign a body: the signature, and the id and time where they are signed. */
  sign(secret: string, request: Signable): Promise<Record<string, string>>;
  /** The delivery a verified payload is, or Refused (400) when it is not one this sender sends. */
  read(payload: unknown, headers: HeaderValues, settings: Settings): Delivery;
  /** Throws UninterpretableDelivery for a body that does not read as its event. */
  interpret(delivery: StoredDelivery, settings: Settings): Interpretation;
};

/** A request the endpoint refuses, with the status and the reason to answer. */
export class Refused extends Error {
  constructor(
    readonly status: RejectStatus,
    message: string,
  ) {
    super(message);
    this.name = "Refused";
  }
}

/** A probe of the endpoint, answered 200 with `reply` and not stored (thrown past the checks it needs no more). */
export class Probed extends Error {
  constructor(readonly reply: Record<string, unknown>) {
    super("A probe of the endpoint, answered at once.");
    this.name = "Probed";
  }
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

/** The media type of a Content-Type header, lower case, without parameters. */
export function mediaType(contentType: string | null): string {
  return (contentType ?? "").split(";")[0].trim().toLowerCase();
}

/**
 * A delivery key made of parts (a hook id and a delivery GUID, ...): each
 * part's `%` and `:` are escaped before the parts are joined with `:`, so
 * that different parts never make the same key (`1:2`+`3` is not `1`+`2:3`).
 * Parts without those characters read as they are.
 */
export function deliveryKey(...parts: string[]): string {
  return parts.map((part) => part.replace(/[%:]/g, (char) => (char === "%" ? "%25" : "%3A"))).join(":");
}

/** Slack's `event_id` and Standard Webhooks' `webhook-id`: 1 to 256 printable ASCII characters, no spaces. */
export const PRINTABLE_ID = /^[\x21-\x7e]{1,256}$/;
