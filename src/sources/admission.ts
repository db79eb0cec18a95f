import { isWellFormed } from "../text";
import { decodeUtf8, RequestBody } from "./body";
import {
  mediaType,
  Probed,
  Refused,
  type Admission,
  type BodyFormat,
  type Delivery,
  type HeaderValues,
  type Settings,
  type WebhookSource,
} from "./source";
import { wellFormedDelivery } from "./wellFormed";

/*
 * Admission, the same for every sender: what a source declares (media types,
 * required headers) is checked here once; then the body is read, verified
 * over its raw bytes, decoded once and parsed once, and classified by the
 * source. At most two copies of the body are held at a time: the bytes are
 * let go once decoded, and the parsed payload once classified.
 */

export type AdmissionContext = {
  secret: string;
  settings: Settings;
  /** WEBHOOK_MAX_BODY_BYTES. */
  maxBodyBytes: number;
  receivedAt: number;
};

// A key's parts are at most 256 characters (docs/contract.md#trust-boundary), and escaping
// `%` and `:` (deliveryKey in ./source.ts) makes one character three at most.
const MAX_KEY_CHARS = 3 * 256;
const MAX_NAME_CHARS = 200;

/** The format of the request's body, by its Content-Type, or 415. */
function bodyFormat(source: WebhookSource, headers: Headers): { contentType: string; format: BodyFormat } {
  const contentType = mediaType(headers.get("content-type"));
  const format = Object.hasOwn(source.bodies, contentType) ? source.bodies[contentType] : undefined;
  if (format === undefined) {
    throw new Refused(415, `Content-Type ${JSON.stringify(contentType)} is not accepted: ${source.contentTypeAdvice}`);
  }
  return { contentType, format };
}

/** The required headers' values (an empty one counts as missing), or 400 naming every one missing. */
function requiredHeaders(source: WebhookSource, headers: Headers): HeaderValues {
  const values: Record<string, string> = {};
  const missing: string[] = [];
  for (const header of source.requiredHeaders) {
    const [name, alias] = typeof header === "string" ? [header] : header;
    const value = headers.get(name) || (alias === undefined ? null : headers.get(alias));
    if (value) {
      values[name] = value;
    } else {
      missing.push(alias === undefined ? name : `${name} (or ${alias})`);
    }
  }
  if (missing.length > 0) {
    throw new Refused(400, `Missing header${missing.length > 1 ? "s" : ""} ${missing.join(", ")}: this endpoint takes ${source.takes}.`);
  }
  return values;
}

/** A form's fields; a name given twice is refused, so that every field reads one way. */
function formFields(text: string): URLSearchParams {
  const fields = new URLSearchParams(text);
  const seen = new Set<string>();
  for (const name of fields.keys()) {
    if (seen.has(name)) {
      throw new Refused(400, `The form-encoded body has the field ${JSON.stringify(name.slice(0, 40))} more than once.`);
    }
    seen.add(name);
  }
  return fields;
}

/** What a body holds, read as its format says and in no other way: JSON, or a form's fields. */
export function parseBody(text: string, format: BodyFormat): unknown {
  if (format === "form") {
    return formFields(text);
  }
  let json = text;
  if (format === "payloadField") {
    // One field, so that no part of a body signed as something else can be picked out of it.
    if (!text.startsWith("payload=") || text.includes("&")) {
      throw new Refused(400, "A form-encoded body must be exactly one field, `payload`, holding the JSON.");
    }
    json = new URLSearchParams(text).get("payload")!;
  }
  try {
    return JSON.parse(json) as unknown;
  } catch {
    throw new Refused(400, format === "payloadField" ? "The form-encoded body's `payload` field is not JSON." : "The body is not JSON.");
  }
}

/** Refuses a key, event or action (values from the request, stored on the delivery row) too long to keep, or a key Convex cannot hold. */
function checkStorable(delivery: Delivery): void {
  if (delivery.deliveryKey.length > MAX_KEY_CHARS) {
    throw new Refused(400, `The delivery id is ${delivery.deliveryKey.length} characters long; the limit is ${MAX_KEY_CHARS}.`);
  }
  if (!isWellFormed(delivery.deliveryKey)) {
    throw new Refused(400, "The delivery id is not well-formed Unicode (it has half of a surrogate pair).");
  }
  for (const [what, value] of [["event type", delivery.event], ["action", delivery.action]] as const) {
    if (value !== undefined && value.length > MAX_NAME_CHARS) {
      throw new Refused(400, `The ${what} is ${value.length} characters long; the limit is ${MAX_NAME_CHARS}.`);
    }
  }
}

/** A request whose content type, headers and signature are checked, with its body still held as bytes. */
export type VerifiedRequest = { contentType: string; format: BodyFormat; headers: HeaderValues; body: RequestBody };

/** Reads the body, within WEBHOOK_MAX_BODY_BYTES; throws Refused (413, or 400 for a body cut short or empty). */
async function readBody(source: WebhookSource, request: Request, context: AdmissionContext): Promise<RequestBody> {
  const read = await RequestBody.read(request, context.maxBodyBytes).catch((error: unknown) => {
    // The stream failed while it was read: the sender closed the connection, or sent a broken body.
    throw new Refused(400, `The body could not be read to its end (${error instanceof Error ? error.message : String(error)}); send it again.`);
  });
  if (!read.ok) {
    throw new Refused(413, `${read.message} (WEBHOOK_MAX_BODY_BYTES).`);
  }
  if (read.value.byteLength === 0) {
    throw new Refused(400, `The body is empty: this endpoint takes ${source.takes}, which carry JSON.`);
  }
  return read.value;
}

/**
 * Checks what the source declares, reads the body and verifies its
 * signature; throws Refused, or Probed for a sender's check of the endpoint
 * (recognised by its body alone, so a source with probes has its body read
 * before its headers are checked).
 */
export async function verifyRequest(source: WebhookSource, request: Request, context: AdmissionContext): Promise<VerifiedRequest> {
  const { contentType, format } = bodyFormat(source, request.headers);
  let body: RequestBody | undefined;
  if (source.probe !== undefined) {
    body = await readBody(source, request, context);
    const reply = source.probe(body, format);
    if (reply !== undefined) {
      throw new Probed(reply);
    }
  }
  const headers = requiredHeaders(source, request.headers);
  source.checkHeaders(headers);
  body ??= await readBody(source, request, context);
  await source.verify({ headers, body, receivedAt: context.receivedAt }, context.secret);
  return { contentType, format, headers, body };
}

/**
 * Decodes a verified body once (letting go of its bytes), parses it once as
 * its format says, and has the source classify it; throws Refused.
 */
export function readVerified(source: WebhookSource, verified: VerifiedRequest, settings: Settings) {
  const { body, format, headers, contentType } = verified;
  const bodyBytes = body.byteLength;
  const text = decodeUtf8(body.bytes);
  body.release();
  if (!text.ok) {
    throw new Refused(400, text.message);
  }
  const delivery = wellFormedDelivery(source.read(parseBody(text.value, format), headers, settings));
  checkStorable(delivery);
  return { ...delivery, contentType, bodyBytes, bodyText: text.value };
}

/** Checks and reads one webhook request (docs/contract.md#3-webhook-routes): the delivery to record, or the answer to refuse it with. */
export async function admitRequest(source: WebhookSource, request: Request, context: AdmissionContext): Promise<Admission> {
  try {
    const verified = await verifyRequest(source, request, context);
    // Not hashed: the record mutation compares bodies only when a row with the same key exists.
    return { ...readVerified(source, verified, context.settings), kind: "deliver" };
  } catch (error) {
    if (error instanceof Refused) {
      return { kind: "reject", status: error.status, error: error.message };
    }
    if (error instanceof Probed) {
      return { kind: "answer", body: error.reply };
    }
    throw error;
  }
}
