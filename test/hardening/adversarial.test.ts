/**
 * The adversarial corpus (fixtures/adversarial/*.json) against all three
 * webhook routes: each case has its expected status per route; none gets a
 * 5xx; only verified deliveries are stored; nothing else changes.
 */
import { describe, expect, test, vi } from "vitest";
import { newBackend } from "../helpers/backend";
import { EVENTS_SECRET } from "../helpers/senders/events";
import { GITHUB_SECRET } from "../helpers/senders/github";
import { domainTables, snapshotTables } from "../helpers/assertions";
import { keptBodies } from "../helpers/inbox/deliveries";
import { newSession, newWorkOrder } from "../helpers/records";
import { withEverySenderConfigured } from "../helpers/senders/all";
import { SLACK_SECRET } from "../helpers/senders/slack";
import { settle } from "../helpers/clock";
import { nestedArraysJson } from "../helpers/convexValues";

type Route = "github" | "slack" | "events";
type Tamper =
  | "duplicateSignatureHeader"
  | "spaceInsideSignature"
  | "spacesAroundSignature"
  | "severalSignatures"
  | "timestampFarPast"
  | "timestampFarFuture"
  | "nonHexSignature"
  | "signatureOfOtherBody"
  | "noSignature";
type Body =
  | { json: unknown }
  | { text: string }
  | { bytes: number[] }
  | { generate: "nested" | "nestedMetadata"; depth: number }
  | { generate: "bigContent" | "ofSize"; bytes: number }
  | { generate: "markerFlood"; markers: number };
type Case = {
  name: string;
  body: Body;
  tamper?: Tamper;
  env?: Record<string, string>;
  /** The Content-Type sent (application/json unless given), the X-GitHub-Event (star unless given), headers set per route. */
  contentType?: string;
  githubEvent?: string;
  headers?: Partial<Record<Route, Record<string, string>>>;
  expect: Record<Route, number>;
};

const corpus = Object.entries(
  import.meta.glob<Case>("../../fixtures/adversarial/*.json", { eager: true, import: "default" }),
).map(([path, adversarial]) => ({ file: path.split("/").at(-1)!, ...adversarial }));

const utf8 = new TextEncoder();
const SESSION_ID = "k57f8gq2wz0d4r8qnw1h3x6f9s7v2c1b";

/** The body's exact bytes. */
function bytesOf(body: Body): Uint8Array {
  if ("json" in body) return utf8.encode(JSON.stringify(body.json));
  if ("text" in body) return utf8.encode(body.text);
  if (!("generate" in body)) return new Uint8Array(body.bytes);
  switch (body.generate) {
    case "nested":
      return utf8.encode(`{"type":"work_order.nested","data":${nestedArraysJson(body.depth)}}`);
    case "nestedMetadata": {
      const data = JSON.stringify({ sessionId: SESSION_ID, role: "user", content: "hi" }).slice(0, -1);
      return utf8.encode(`{"type":"chat.message.created","data":${data},"metadata":${nestedArraysJson(body.depth)}}}`);
    }
    case "bigContent":
      return utf8.encode(
        JSON.stringify({ type: "chat.message.created", data: { sessionId: SESSION_ID, role: "user", content: "x".repeat(body.bytes) } }),
      );
    case "markerFlood": {
      const lines = Array.from({ length: body.markers }, (_, i) => `Work-Order: k${String(i).padStart(31, "0")}`);
      const commit = { id: "0123456789abcdef0123456789abcdef01234567", message: ["Sweep", ...lines].join("\n") };
      return utf8.encode(JSON.stringify({ ref: "refs/heads/main", deleted: false, repository: { full_name: "acme/api" }, commits: [commit] }));
    }
    case "ofSize": {
      const shape = (pad: string) => JSON.stringify({ type: "work_order.padding", data: { pad } });
      return utf8.encode(shape("p".repeat(body.bytes - shape("").length)));
    }
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** HMAC-SHA256 with Web Crypto, here in the test, apart from the code under test. */
async function hmac(key: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
  const cryptoKey = await crypto.subtle.importKey("raw", new Uint8Array(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, new Uint8Array(message)));
}
const hex = (bytes: Uint8Array) => Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");

/** Each sender's signature over raw bytes. */
async function signature(route: Route, body: Uint8Array, timestamp: string, id: string): Promise<string> {
  switch (route) {
    case "github":
      return `sha256=${hex(await hmac(utf8.encode(GITHUB_SECRET), body))}`;
    case "slack":
      return `v0=${hex(await hmac(utf8.encode(SLACK_SECRET), concat(utf8.encode(`v0:${timestamp}:`), body)))}`;
    case "events": {
      const key = Uint8Array.from(atob(EVENTS_SECRET.slice("whsec_".length)), (char) => char.charCodeAt(0));
      return `v1,${btoa(String.fromCharCode(...(await hmac(key, concat(utf8.encode(`${id}.${timestamp}.`), body)))))}`;
    }
  }
}

const SIGNATURE_HEADER: Record<Route, string> = { github: "X-Hub-Signature-256", slack: "X-Slack-Signature", events: "webhook-signature" };
const PREFIX: Record<Route, string> = { github: "sha256=", slack: "v0=", events: "v1," };

/** The request a sender would make for this case's body, then tampered with as the case says. */
async function requestFor(route: Route, adversarial: Case): Promise<{ path: string; init: RequestInit }> {
  const body = bytesOf(adversarial.body);
  const now = Math.floor(Date.now() / 1000);
  const timestamp = String(
    adversarial.tamper === "timestampFarPast" ? 978_307_200 : adversarial.tamper === "timestampFarFuture" ? 9_999_999_999 : now,
  );
  const id = `msg_${crypto.randomUUID().replaceAll("-", "")}`;
  const signed = adversarial.tamper === "signatureOfOtherBody" ? concat(body, utf8.encode(" ")) : body;
  const valid = await signature(route, signed, timestamp, id);
  const headers = new Headers({ "Content-Type": adversarial.contentType ?? "application/json" });
  if (route === "github") {
    headers.set("X-GitHub-Event", adversarial.githubEvent ?? "star");
    headers.set("X-GitHub-Delivery", crypto.randomUUID());
    headers.set("X-GitHub-Hook-ID", "292430182");
  } else if (route === "slack") {
    headers.set("X-Slack-Request-Timestamp", timestamp);
  } else {
    headers.set("webhook-id", id);
    headers.set("webhook-timestamp", timestamp);
  }
  for (const [header, value] of Object.entries(adversarial.headers?.[route] ?? {})) headers.set(header, value);
  const name = SIGNATURE_HEADER[route];
  const wrong = `${PREFIX[route]}${route === "events" ? btoa("not the signature at all, no") : "0".repeat(64)}`;
  switch (adversarial.tamper) {
    case "noSignature":
      break;
    case "duplicateSignatureHeader":
      headers.append(name, valid);
      headers.append(name, valid);
      break;
    case "spaceInsideSignature":
      headers.set(name, valid.replace(PREFIX[route], `${PREFIX[route].slice(0, -1)} ${PREFIX[route].slice(-1)}`));
      break;
    case "spacesAroundSignature":
      headers.set(name, `  ${valid}  `);
      break;
    case "severalSignatures":
      headers.set(name, route === "events" ? `${wrong} ${valid}` : `${wrong},${valid}`);
      break;
    case "nonHexSignature":
      headers.set(name, `${PREFIX[route]}${route === "events" ? "@@@@not~base64@@@@" : "z".repeat(64)}`);
      break;
    case "signatureOfOtherBody":
    case "timestampFarPast":
    case "timestampFarFuture":
    case undefined:
      // Signed as the sender signs (over another body, or at another time, where the case says so).
      headers.set(name, valid);
      break;
  }
  return { path: `/webhooks/${route}`, init: { method: "POST", headers, body: new Uint8Array(body) } };
}

withEverySenderConfigured();

test("the corpus covers every case the reliability issue names", () => {
  expect(corpus.length).toBeGreaterThanOrEqual(33);
  for (const adversarial of corpus) {
    for (const route of ["github", "slack", "events"] as const) {
      expect(adversarial.expect[route], `${adversarial.file} ${route}`).toBeLessThan(500);
    }
  }
});

describe.each(["github", "slack", "events"] as const)("POST /webhooks/%s against the adversarial corpus", (route) => {
  test.each(corpus.map((adversarial) => [adversarial.file, adversarial] as const))("%s", async (_file, adversarial) => {
    for (const [name, value] of Object.entries(adversarial.env ?? {})) vi.stubEnv(name, value);
    const t = newBackend();
    await newWorkOrder(t, await newSession(t, "alice"));
    const before = await domainTables(t);

    const { path, init } = await requestFor(route, adversarial);
    const response = await t.fetch(path, init);
    const answer = (await response.json()) as Record<string, unknown>;
    expect(response.status, JSON.stringify(answer)).toBe(adversarial.expect[route]);
    expect(response.status).toBeLessThan(500);
    await settle(t);

    const after = await snapshotTables(t);
    const verified = response.status === 200;
    expect(after.webhook_deliveries).toHaveLength(verified ? 1 : 0);
    expect(await keptBodies(t)).toBe(verified ? 1 : 0);
    expect(await domainTables(t)).toEqual(before);
    if (verified) {
      expect(after.webhook_deliveries[0]).toMatchObject({ bodyBytes: bytesOf(adversarial.body).length });
      expect(["ignored", "processed"]).toContain((after.webhook_deliveries[0] as { status: string }).status);
    }
    // No stored document over Convex's 1 MiB (the harness refuses one at write; this names the case that would).
    for (const [table, rows] of Object.entries(after)) {
      for (const row of rows) {
        expect(utf8.encode(JSON.stringify(row)).length, `a ${table} document`).toBeLessThan(1024 * 1024);
      }
    }
  });
});
