/*
 * Web Crypto over raw bytes: what every sender's signature comes down to.
 * Nothing here copies a body; Web Crypto reads the view it is given.
 */

const utf8 = new TextEncoder();

/** An HMAC-SHA256 key from a secret's text (GitHub, Slack) or its raw bytes (Standard Webhooks). */
export async function hmacKey(secret: string | Uint8Array, usage: "sign" | "verify"): Promise<CryptoKey> {
  const raw = typeof secret === "string" ? utf8.encode(secret) : new Uint8Array(secret);
  if (raw.length === 0) {
    throw new TypeError("An HMAC key cannot be empty.");
  }
  return await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, [usage]);
}

/** The HMAC-SHA256 of `message`. */
export async function hmacSha256(key: CryptoKey, message: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, message));
}

/** Whether `mac` is the HMAC-SHA256 of `message`; Web Crypto compares in constant time. */
export async function hmacSha256Matches(key: CryptoKey, message: Uint8Array<ArrayBuffer>, mac: Uint8Array<ArrayBuffer>): Promise<boolean> {
  return await crypto.subtle.verify("HMAC", key, mac, message);
}

/** Byte-wise equality whose time does not depend on where the inputs differ. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) {
    return false;
  }
  let difference = 0;
  for (let i = 0; i < a.length; i += 1) {
    difference |= a[i] ^ b[i];
  }
  return difference === 0;
}

/** The SHA-256 of `bytes`, in lower-case hex. */
export async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  return hexOf(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
}

export function hexOf(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The bytes of `hex` (either case), or null when it is not an even run of hex digits. */
export function bytesOfHex(hex: string): Uint8Array<ArrayBuffer> | null {
  if (!/^(?:[0-9a-f]{2})*$/i.test(hex)) {
    return null;
  }
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i += 1) {
    bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  }
  return bytes;
}

export function base64Of(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

/** The bytes of standard base64 text, or null when it is not base64. */
export function bytesOfBase64(text: string): Uint8Array<ArrayBuffer> | null {
  try {
    return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
  } catch {
    return null;
  }
}
