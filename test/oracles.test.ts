// @vitest-environment node
import { sign as octokitSign, verify as octokitVerify } from "@octokit/webhooks-methods";
import fc from "fast-check";
import { Webhook } from "svix";
import { describe, expect, test } from "vitest";
import { signedRequest, type Fixture } from "../scripts/lib/send";
import { verifyRequest } from "../src/sources/admission";
import { webhookSources } from "../src/sources";
import { Refused, type SourceName } from "../src/sources/source";
import { eventSigningKeys } from "../src/events/sign";
import { sendEvent } from "../src/events/send";
import { eventBody } from "../src/events/types";

/*
 * The libraries the senders publish, as oracles for the hand-written Web
 * Crypto verification (docs/architecture.md#verification-by-hand): for random
 * bodies and secrets, what svix and @octokit/webhooks-methods sign, the
 * routes admit; what `npm run send` signs, the libraries verify; and any
 * change to the body, the timestamp or the signature is refused by both.
 * Events out (signed here for Jangar's server) join these properties: what
 * the events destination posts, svix verifies, and any change is refused.
 */

const RUNS = { numRuns: 40 };

/** What the route checks before it parses: content type, headers, body, signature (src/sources/admission.ts). */
async function admitted(source: SourceName, headers: Record<string, string>, body: string, secret: string, receivedAt: number): Promise<boolean> {
  const request = new Request(`https://deployment.convex.site${webhookSources[source].path}`, { method: "POST", headers, body });
  try {
    await verifyRequest(webhookSources[source], request, { secret, settings: {}, maxBodyBytes: 1 << 20, receivedAt });
    return true;
  } catch (error) {
    if (error instanceof Refused && error.status === 401) return false;
    throw error;
  }
}

// Any JSON, with text beyond ASCII: the signature covers the body's UTF-8 bytes.
const anyJson = fc.jsonValue({ maxDepth: 3, stringUnit: "grapheme" });
const jsonBody = anyJson.map((value) => JSON.stringify({ payload: value }));
const githubSecret = fc.string({ minLength: 1, maxLength: 64 }).filter((secret) => secret.trim() === secret && !/\s/.test(secret));
/** A Standard Webhooks secret: whsec_ and the base64 of 24 to 64 random bytes. */
const whsecSecret = fc.uint8Array({ minLength: 24, maxLength: 64 }).map((key) => `whsec_${btoa(String.fromCharCode(...key))}`);
const messageId = fc.stringMatching(/^msg_[A-Za-z0-9]{8,24}$/);
const nowSeconds = 1_780_000_000;

/** A different string of the same kind: one character changed, added or cut. */
const tampered = (text: string, at: number) => {
  const index = at % Math.max(text.length, 1);
  const replaced = text[index] === "a" ? "b" : "a";
  return text.length === 0 ? "x" : `${text.slice(0, index)}${replaced}${text.slice(index + 1)}`;
};

const githubHeaders = (signature: string) => ({
  "Content-Type": "application/json",
  "X-Hub-Signature-256": signature,
  "X-GitHub-Event": "ping",
  "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
  "X-GitHub-Hook-ID": "1",
  "User-Agent": "GitHub-Hookshot/oracle",
});

describe("GitHub: @octokit/webhooks-methods as the oracle", () => {
  test("what octokit signs, the route admits", async () => {
    await fc.assert(
      fc.asyncProperty(jsonBody, githubSecret, async (body, secret) => {
        expect(await admitted("github", githubHeaders(await octokitSign(secret, body)), body, secret, Date.now())).toBe(true);
      }),
      RUNS,
    );
  });

  test("what npm run send signs, octokit verifies", async () => {
    await fc.assert(
      fc.asyncProperty(anyJson, githubSecret, async (payload, secret) => {
        const fixture: Fixture = { file: "(oracle)", source: "github", event: "ping", payload: { payload } };
        const { init } = await signedRequest({ fixture, id: "72d3162e-cc78-11e3-81ab-4c9367dc0958" }, secret, Date.now());
        const signature = new Headers(init.headers).get("x-hub-signature-256")!;
        expect(await octokitVerify(secret, init.body as string, signature)).toBe(true);
      }),
      RUNS,
    );
  });

  test("a changed body or signature is refused by both", async () => {
    await fc.assert(
      fc.asyncProperty(jsonBody, githubSecret, fc.nat(), fc.boolean(), async (body, secret, at, changeBody) => {
        const signature = await octokitSign(secret, body);
        const [sentBody, sentSignature] = changeBody ? [tampered(body, at), signature] : [body, `sha256=${tampered(signature.slice(7), at)}`];
        expect(await octokitVerify(secret, sentBody, sentSignature)).toBe(false);
        expect(await admitted("github", githubHeaders(sentSignature), sentBody, secret, Date.now())).toBe(false);
      }),
      RUNS,
    );
  });
});

describe("Standard Webhooks: svix as the oracle", () => {
  const svixHeaders = (id: string, timestamp: number, signature: string) => ({
    "Content-Type": "application/json",
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": signature,
  });

  test("what svix signs, the route admits", async () => {
    await fc.assert(
      fc.asyncProperty(jsonBody, whsecSecret, messageId, async (body, secret, id) => {
        const signature = new Webhook(secret).sign(id, new Date(nowSeconds * 1000), body);
        expect(await admitted("events", svixHeaders(id, nowSeconds, signature), body, secret, nowSeconds * 1000)).toBe(true);
      }),
      RUNS,
    );
  });

  test("what npm run send signs, svix verifies", async () => {
    await fc.assert(
      fc.asyncProperty(anyJson, whsecSecret, messageId, async (data, secret, id) => {
        const fixture: Fixture = { file: "(oracle)", source: "events", payload: { type: "jangar.oracle", timestamp: "2026-05-02T00:00:00Z", data } };
        const { init } = await signedRequest({ fixture, id }, secret, Date.now());
        const headers = Object.fromEntries(new Headers(init.headers));
        expect(() => new Webhook(secret).verify(init.body as string, headers)).not.toThrow();
      }),
      RUNS,
    );
  });

  test("a changed body, timestamp or signature is refused by both", async () => {
    const change = fc.constantFrom("body", "timestamp", "signature");
    await fc.assert(
      fc.asyncProperty(jsonBody, whsecSecret, messageId, fc.nat(), change, async (body, secret, id, at, what) => {
        const signature = new Webhook(secret).sign(id, new Date(nowSeconds * 1000), body);
        const sent = {
          body: what === "body" ? tampered(body, at) : body,
          timestamp: what === "timestamp" ? nowSeconds - 1 - (at % 200) : nowSeconds,
          signature: what === "signature" ? `v1,${tampered(signature.slice(3), at)}` : signature,
        };
        // Within both windows (five minutes), so that only the signature can refuse it.
        const headers = svixHeaders(id, sent.timestamp, sent.signature);
        expect(() => new Webhook(secret).verify(sent.body, headers)).toThrow();
        expect(await admitted("events", headers, sent.body, secret, nowSeconds * 1000)).toBe(false);
      }),
      RUNS,
    );
  });
});

describe("Events out: svix as the oracle", () => {
  /** The request the events destination posts for an event, as a receiver gets it. */
  async function posted(secrets: string[], id: string, content: string) {
    const keys = eventSigningKeys(secrets.join(" "));
    if (!keys.ok) throw new Error(keys.message);
    const body = eventBody({
      type: "chat.message.created",
      timestamp: "2026-05-02T00:00:00.000Z",
      data: { sessionId: "k17a2b3c4d5e6f7g8h9j0k1m2n3p4q5r" as never, messageId: "k97a2b3c4d5e6f7g8h9j0k1m2n3p4q5r" as never, role: "user", content, source: "slack" },
    });
    let request: { body: string; headers: Record<string, string> } | undefined;
    const capture = async (_url: RequestInfo | URL, init?: RequestInit) => {
      request = { body: init?.body as string, headers: Object.fromEntries(new Headers(init?.headers)) };
      return new Response(null, { status: 204 });
    };
    expect(await sendEvent({ url: "https://jangar.test/events", keys: keys.value, timeoutMs: 10_000 }, { id, body }, capture)).toEqual({ kind: "sent", httpStatus: 204 });
    return request!;
  }
  const content = fc.string({ maxLength: 200, unit: "grapheme" });

  test("what the events destination posts, svix verifies under each secret of a rotation", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(whsecSecret, { minLength: 1, maxLength: 2 }), messageId, content, async (secrets, id, text) => {
        const { body, headers } = await posted(secrets, id, text);
        for (const secret of secrets) {
          expect(new Webhook(secret).verify(body, headers)).toMatchObject({ data: { content: text } });
        }
      }),
      RUNS,
    );
  });

  test("a changed body, timestamp or signature is refused by svix", async () => {
    const change = fc.constantFrom("body", "timestamp", "signature");
    await fc.assert(
      fc.asyncProperty(whsecSecret, messageId, content, fc.nat(), change, async (secret, id, text, at, what) => {
        const { body, headers } = await posted([secret], id, text);
        const signature = headers["webhook-signature"];
        const sent = {
          body: what === "body" ? tampered(body, at) : body,
          headers: {
            ...headers,
            "webhook-timestamp": what === "timestamp" ? String(Number(headers["webhook-timestamp"]) - 1 - (at % 200)) : headers["webhook-timestamp"],
            "webhook-signature": what === "signature" ? `v1,${tampered(signature.slice(3), at)}` : signature,
          },
        };
        expect(() => new Webhook(secret).verify(sent.body, sent.headers)).toThrow();
      }),
      RUNS,
    );
  });
});
