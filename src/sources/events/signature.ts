import { accept, reject, type Check } from "../../check";
import { base64Of, bytesOfBase64, constantTimeEqual, hmacKey, hmacSha256 } from "../../hmac";
import { RequestBody } from "../body";

/*
 * Standard Webhooks (https://www.standardwebhooks.com, Svix's scheme) on Web
 * Crypto: `webhook-signature` holds space-separated `v1,<base64>` entries, each
 * an HMAC-SHA256, under the base64 key of a `whsec_` secret, of
 * `<webhook-id>.<webhook-timestamp>.` followed by the raw body.
 */

// Senders reject deliveries older than five minutes; so does this endpoint, either way.
const WINDOW_SECONDS = 5 * 60;
// A key shorter than this could be guessed; Standard Webhooks keys are 24 to 64 bytes.
const MIN_KEY_BYTES = 16;
const utf8 = new TextEncoder();

/** The key of one `whsec_<base64>` secret (the prefix may be left out), or null when it is not base64. */
function keyOf(secret: string): Uint8Array | null {
  return bytesOfBase64(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret);
}

/**
 * The keys of a setting holding one or several space-separated secrets
 * (rotation), or what makes one of them unusable, naming it: the receiving
 * endpoint's EVENTS_WEBHOOK_SECRET, and events out's JANGAR_EVENTS_SECRET.
 */
export function signingKeys(setting: string, variable: string): Check<Uint8Array[]> {
  const secrets = setting.split(/\s+/).filter(Boolean);
  const keys: Uint8Array[] = [];
  for (const [index, secret] of secrets.entries()) {
    const which = secrets.length > 1 ? `secret ${index + 1} of ${variable}` : variable;
    const key = keyOf(secret);
    if (key === null) {
      return reject(`${which} is not a whsec_<base64> key.`);
    }
    if (key.length < MIN_KEY_BYTES) {
      return reject(`${which} is a ${key.length}-byte key; at least ${MIN_KEY_BYTES} bytes are needed.`);
    }
    keys.push(key);
  }
  return keys.length > 0 ? accept(keys) : reject(`${variable} holds no secret.`);
}

/**
 * What a Standard Webhooks sender signs, and so what a receiver checks:
 * `<id>.<timestamp>.` followed by the raw body, as one view. Signing (here
 * and in src/events/sign.ts) and verifying (below) both start from it.
 */
export function signedContent(id: string, timestamp: string, body: RequestBody | Uint8Array): Uint8Array<ArrayBuffer> {
  return (body instanceof RequestBody ? body : RequestBody.of(body)).withPrefix(utf8.encode(`${id}.${timestamp}.`));
}

/** The base64 HMAC-SHA256 of `signed` under one key: what follows `v1,` in `webhook-signature`. */
export async function signatureOf(key: Uint8Array, signed: Uint8Array<ArrayBuffer>): Promise<string> {
  return base64Of(await hmacSha256(await hmacKey(key, "sign"), signed));
}

/** The `webhook-signature` a sender with this `whsec_` secret sends (one `v1,` entry). */
export async function signStandardWebhook(secret: string, id: string, timestamp: number, body: Uint8Array): Promise<string> {
  const key = keyOf(secret);
  if (key === null) {
    throw new TypeError("A Standard Webhooks secret is whsec_ followed by a base64 key.");
  }
  return `v1,${await signatureOf(key, signedContent(id, String(timestamp), body))}`;
}

export type StandardWebhookHeaders = { id: string; timestamp: string; signature: string };

/**
 * Checks a delivery as Standard Webhooks' own libraries do: the timestamp is
 * Unix seconds within five minutes of `nowSeconds`, and one `v1` entry of the
 * signature header is the HMAC under one of `keys` (rotation). The body's
 * HMAC is computed once per key, then compared with every entry in constant time.
 * Each failure says which check failed.
 */
export async function verifyStandardWebhook(
  keys: readonly Uint8Array[],
  headers: StandardWebhookHeaders,
  body: RequestBody | Uint8Array,
  nowSeconds: number,
): Promise<Check<void>> {
  if (!/^\d{1,12}$/.test(headers.timestamp)) {
    return reject("webhook-timestamp must be a Unix time in seconds.");
  }
  const age = Math.floor(nowSeconds) - Number(headers.timestamp);
  if (Math.abs(age) > WINDOW_SECONDS) {
    return reject(
      `webhook-timestamp must be within five minutes of now; it is ${Math.abs(age)} seconds ${age > 0 ? "old" : "ahead"} (a replayed or delayed delivery, or a clock out of sync).`,
    );
  }
  // `v1,<base64>` entries; like the reference libraries, what follows a second comma is not read.
  const candidates = headers.signature
    .split(" ")
    .map((entry) => entry.split(","))
    .filter(([version, signature]) => version === "v1" && signature !== undefined)
    .map(([, signature]) => utf8.encode(signature));
  const signed = signedContent(headers.id, headers.timestamp, body);
  for (const key of keys) {
    const expected = utf8.encode(await signatureOf(key, signed));
    if (candidates.some((candidate) => constantTimeEqual(candidate, expected))) {
      return accept(undefined);
    }
  }
  return reject("No signature in webhook-signature matches: check that the sender's secret is one of EVENTS_WEBHOOK_SECRET.");
}
