import { hmacSha256Hex, verifyHmacSha256Hex } from "../../hmac";

const utf8 = new TextEncoder();

/** Slack's signed base string: `v0:{timestamp}:` followed by the raw body bytes. */
function baseString(timestamp: string, body: Uint8Array): Uint8Array {
  const prefix = utf8.encode(`v0:${timestamp}:`);
  const message = new Uint8Array(prefix.length + body.length);
  message.set(prefix);
  message.set(body, prefix.length);
  return message;
}

/** The X-Slack-Signature Slack sends for this timestamp and body. */
export async function signSlackRequest(secret: string, timestamp: string, body: Uint8Array): Promise<string> {
  return `v0=${await hmacSha256Hex(secret, baseString(timestamp, body))}`;
}

/** Whether `signature` (X-Slack-Signature) is Slack's v0 signature of this timestamp and body. */
export async function verifySlackSignature(
  secret: string,
  timestamp: string,
  body: Uint8Array,
  signature: string,
): Promise<boolean> {
  const match = /^v0=([0-9a-f]{64})$/i.exec(signature);
  return match !== null && (await verifyHmacSha256Hex(secret, baseString(timestamp, body), match[1]));
}
