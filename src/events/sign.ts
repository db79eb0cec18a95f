import type { Check } from "../check";
import { signatureOf, signedContent, signingKeys } from "../sources/events/signature";

/*
 * Signing an events-out request (docs/contract.md#events-out-telling-jangars-server-what-happened)
 * as a Standard Webhooks sender: the same "what is signed" as the
 * /webhooks/events verifier (src/sources/events/signature.ts), under every
 * key of JANGAR_EVENTS_SECRET, so that a receiver holding either secret
 * during a rotation verifies it.
 *
 *   const keys = eventSigningKeys(setting("JANGAR_EVENTS_SECRET"));
 *   if (!keys.ok) ... // keys.message names the setting and the unusable secret
 *   const headers = await signEventRequest(keys.value, { id, timestamp: Math.floor(Date.now() / 1000), body });
 *   await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
 */

export const EVENTS_SECRET_SETTING = "JANGAR_EVENTS_SECRET";

/** The keys of JANGAR_EVENTS_SECRET (one `whsec_...` secret, or several space-separated), or why it is unusable. */
export function eventSigningKeys(setting: string): Check<Uint8Array[]> {
  return signingKeys(setting, EVENTS_SECRET_SETTING);
}

export type EventRequestHeaders = {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
};

export type EventRequest = {
  /** Unique per event, the same on every retry. */
  id: string;
  /** Unix seconds of this attempt. */
  timestamp: number;
  /** The exact bytes sent (`eventBody(event)`, or its UTF-8). */
  body: string | Uint8Array;
};

const utf8 = new TextEncoder();

/** The Standard Webhooks headers of one attempt: one `v1,<base64>` signature per key, space-separated. */
export async function signEventRequest(keys: readonly Uint8Array[], request: EventRequest): Promise<EventRequestHeaders> {
  if (keys.length === 0) {
    throw new TypeError("signEventRequest needs at least one key (eventSigningKeys).");
  }
  if (!Number.isSafeInteger(request.timestamp) || request.timestamp < 0) {
    throw new TypeError("webhook-timestamp is whole Unix seconds.");
  }
  const timestamp = String(request.timestamp);
  const signed = signedContent(request.id, timestamp, typeof request.body === "string" ? utf8.encode(request.body) : request.body);
  const signatures: string[] = [];
  for (const key of keys) {
    signatures.push(`v1,${await signatureOf(key, signed)}`);
  }
  return { "webhook-id": request.id, "webhook-timestamp": timestamp, "webhook-signature": signatures.join(" ") };
}
