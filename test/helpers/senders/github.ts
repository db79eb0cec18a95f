import { overrideHeaders } from "./headers";
import { github } from "../../../src/sources/github";
import type { Backend } from "../backend";
import type { Target } from "../orders/crowds";

export const GITHUB_SECRET = "It's a Secret to Everybody";

let deliveries = 0;
const utf8 = new TextEncoder();

export type GithubDelivery = {
  event: string;
  payload: unknown;
  hookId?: string;
  guid?: string;
  secret?: string;
  /** Send as a form-encoded hook (`payload=<json>`) instead of JSON. */
  form?: boolean;
  headers?: Record<string, string | null>;
};

/** The request GitHub sends for a delivery: body, signature and X-GitHub-* headers. */
export async function githubRequest(delivery: GithubDelivery): Promise<RequestInit> {
  const json = JSON.stringify(delivery.payload);
  const body = delivery.form ? new URLSearchParams({ payload: json }).toString() : json;
  const guid = delivery.guid ?? `72d3162e-cc78-11e3-81ab-4c9367dc${String(++deliveries).padStart(4, "0")}`;
  const headers: Record<string, string> = {
    "Content-Type": delivery.form ? "application/x-www-form-urlencoded" : "application/json",
    "User-Agent": "GitHub-Hookshot/044aadd",
    "X-GitHub-Event": delivery.event,
    "X-GitHub-Delivery": guid,
    "X-GitHub-Hook-ID": delivery.hookId ?? "292430182",
    "X-GitHub-Hook-Installation-Target-ID": "79929171",
    "X-GitHub-Hook-Installation-Target-Type": "repository",
    ...(await github.sign(delivery.secret ?? GITHUB_SECRET, { body: utf8.encode(body), id: guid, timestamp: Math.floor(Date.now() / 1000) })),
  };
  overrideHeaders(headers, delivery.headers);
  return { method: "POST", headers, body };
}

export async function postGithub(t: Backend, delivery: GithubDelivery) {
  const response = await t.fetch("/webhooks/github", await githubRequest(delivery));
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The n-th commit SHA of a test push (n from 1). */
export function sha(n: number): string {
  return `c${n.toString(16).padStart(39, "0")}`;
}

/** A push of commits `from`..`from + count - 1` to a branch of a repository. */
export function pushOf(target: Target, count: number, from = 1, message = (n: number) => `Step ${n}`) {
  return {
    ref: `refs/heads/${target.targetBranch}`,
    deleted: false,
    repository: { full_name: target.targetRepo },
    commits: Array.from({ length: count }, (_, i) => ({ id: sha(from + i), message: message(from + i) })),
  };
}
