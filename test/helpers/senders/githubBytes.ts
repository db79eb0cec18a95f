import { expect } from "vitest";
import type { Backend } from "../backend";
import { example } from "../github/examples";
import { GITHUB_SECRET, githubRequest } from "./github";

/*
 * Deliveries to POST /webhooks/github made of exact bytes, signed
 * independently of the code under test, and the push GitHub publishes to
 * send in them.
 */

const utf8 = new TextEncoder();

// A push of one commit ("Initial commit") to Codertocat/Hello-World's master branch.
// (The first push example is a tag push.)
export const pushToMaster = () =>
  example<Record<string, unknown>>("push", undefined, (payload) => payload.ref === "refs/heads/master" && payload.deleted === false);
export const PUSHED_COMMIT = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";
export const HELLO_WORLD_MASTER = { targetRepo: "Codertocat/Hello-World", targetBranch: "master" };

/** X-Hub-Signature-256 over raw bytes, computed with Web Crypto, independently of the code under test. */
export async function signBytes(secret: string, body: Uint8Array): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    utf8.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new Uint8Array(body)));
  return `sha256=${Array.from(mac, (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * Posts exactly these bytes (a string is sent as its UTF-8), correctly signed
 * unless `headers` says otherwise; a null header is left out.
 */
export async function postBody(
  t: Backend,
  delivery: {
    event: string;
    body: string | Uint8Array;
    contentType?: string | null;
    headers?: Record<string, string | null>;
  },
) {
  const bytes = typeof delivery.body === "string" ? utf8.encode(delivery.body) : delivery.body;
  const init = await githubRequest({
    event: delivery.event,
    payload: null,
    headers: {
      "Content-Type": delivery.contentType === undefined ? "application/json" : delivery.contentType,
      "X-Hub-Signature-256": await signBytes(GITHUB_SECRET, bytes),
      ...delivery.headers,
    },
  });
  const response = await t.fetch("/webhooks/github", { ...init, body: new Uint8Array(bytes) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** A ping of exactly `bytes` bytes: its zen padded to size. */
export function pingOfSize(bytes: number): string {
  const shape = (zen: string) => JSON.stringify({ zen, hook_id: 292430182 });
  const body = shape("Design for failure.".padEnd(bytes - shape("").length, "."));
  expect(utf8.encode(body).length).toBe(bytes);
  return body;
}
