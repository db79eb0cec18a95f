import { sign, verify } from "@octokit/webhooks-methods";

// GitHub sends `sha256=` and 64 hex digits; anything else cannot match.
const SIGNATURE_FORM = /^sha256=[0-9a-f]{64}$/i;

/**
 * Whether `signature` (the X-Hub-Signature-256 header) is GitHub's
 * HMAC-SHA256 of `payload` (the raw body, as UTF-8 text) under `secret`.
 * The comparison is Web Crypto's HMAC verify, in constant time.
 */
export async function verifyGithubSignature(
  secret: string,
  payload: string,
  signature: string,
): Promise<boolean> {
  if (!SIGNATURE_FORM.test(signature) || payload.length === 0) {
    return false;
  }
  return await verify(secret, payload, signature.toLowerCase());
}

/** The X-Hub-Signature-256 header GitHub would send for this body. */
export async function signGithubPayload(secret: string, payload: string): Promise<string> {
  return await sign(secret, payload);
}
