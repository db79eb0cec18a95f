import { bytesOfHex, hexOf, hmacKey, hmacSha256, hmacSha256Matches } from "../../hmac";
import { RequestBody } from "../body";

/*
 * GitHub's X-Hub-Signature-256: `sha256=` and the hex HMAC-SHA256 of the raw
 * body under the webhook's secret. What is signed is the body alone.
 */

const PREFIX = "sha256=";
const utf8 = new TextEncoder();

function bodyOf(body: RequestBody | Uint8Array | string): Uint8Array<ArrayBuffer> {
  if (body instanceof RequestBody) return body.bytes;
  return typeof body === "string" ? utf8.encode(body) : new Uint8Array(body);
}

/** The X-Hub-Signature-256 GitHub sends for this body (a string is signed as its UTF-8). */
export async function signGithubPayload(secret: string, body: Uint8Array | string): Promise<string> {
  return `${PREFIX}${hexOf(await hmacSha256(await hmacKey(secret, "sign"), bodyOf(body)))}`;
}

/**
 * Whether `signature` (X-Hub-Signature-256) is GitHub's signature of `body`
 * under `secret`; anything but `sha256=` and 64 hex digits is false.
 */
export async function verifyGithubSignature(secret: string, body: RequestBody | Uint8Array | string, signature: string): Promise<boolean> {
  const mac = signature.startsWith(PREFIX) ? bytesOfHex(signature.slice(PREFIX.length)) : null;
  if (mac === null || mac.length !== 32) {
    return false;
  }
  return await hmacSha256Matches(await hmacKey(secret, "verify"), bodyOf(body), mac);
}

/** The shortest part of GITHUB_WEBHOOK_SECRET that counts as a secret of its own during a rotation. */
export const MIN_ROTATION_SECRET_CHARS = 16;

/**
 * The secrets GITHUB_WEBHOOK_SECRET holds: several, space-separated, during a
 * rotation (docs/contract.md#hardening-rules), when every part is at least
 * 16 characters; otherwise the whole value is the one secret, spaces and
 * all, so that a secret that always held spaces (GitHub's own example, "It's
 * a Secret to Everybody") keeps working and none of its words counts alone.
 */
export function githubSecrets(setting: string): string[] {
  const parts = setting.split(/\s+/).filter(Boolean);
  return parts.length > 1 && parts.every((part) => part.length >= MIN_ROTATION_SECRET_CHARS) ? parts : [setting];
}
