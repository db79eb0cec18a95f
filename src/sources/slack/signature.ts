import { bytesOfHex, hexOf, hmacKey, hmacSha256, hmacSha256Matches } from "../../hmac";
import { RequestBody } from "../body";

/*
 * Slack's X-Slack-Signature: `v0=` and the hex HMAC-SHA256, under the app's
 * Signing Secret, of `v0:<X-Slack-Request-Timestamp>:` followed by the raw body.
 */

const PREFIX = "v0=";
const utf8 = new TextEncoder();

/** What Slack signs: `v0:{timestamp}:` and the body, as one view (the body is not copied when it is a RequestBody). */
function signedBytes(timestamp: string, body: RequestBody | Uint8Array): Uint8Array<ArrayBuffer> {
  return (body instanceof RequestBody ? body : RequestBody.of(body)).withPrefix(utf8.encode(`v0:${timestamp}:`));
}

/** The X-Slack-Signature Slack sends for this timestamp and body. */
export async function signSlackRequest(secret: string, timestamp: string, body: Uint8Array): Promise<string> {
  return `${PREFIX}${hexOf(await hmacSha256(await hmacKey(secret, "sign"), signedBytes(timestamp, body)))}`;
}

/** Whether `signature` (X-Slack-Signature) is Slack's v0 signature of this timestamp and body. */
export async function verifySlackSignature(
  secret: string,
  timestamp: string,
  body: RequestBody | Uint8Array,
  signature: string,
): Promise<boolean> {
  const mac = signature.startsWith(PREFIX) ? bytesOfHex(signature.slice(PREFIX.length)) : null;
  if (mac === null || mac.length !== 32) {
    return false;
  }
  return await hmacSha256Matches(await hmacKey(secret, "verify"), signedBytes(timestamp, body), mac);
}
