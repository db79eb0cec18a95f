import fc from "fast-check";
import { Webhook } from "svix";
import { describe, expect, test, vi } from "vitest";
import { EventVerificationError, eventVerifier, type EventCheck } from "../client";
import { eventSigningKeys, signEventRequest } from "../src/events/sign";
import { eventBody, type JangarEvent } from "../src/events/types";
import { withFakeClock } from "./helpers/clock";

/*
 * Events out, both ends (docs/contract.md#events-out-telling-jangars-server-what-happened):
 * the deployment's signer (src/events/sign.ts) checked against svix's own
 * Standard Webhooks verification and the scheme's published vector, and the
 * service client's verifier checked against requests svix signs.
 */

const runs = (standard: number) => Number(process.env.FC_NUM_RUNS ?? standard);
const NOW = new Date("2026-03-02T09:00:00.000Z");
const NOW_S = NOW.getTime() / 1000;
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OTHER_SECRET = "whsec_c29tZW9uZSBlbHNlIHMga2V5IDAwMDM=";

withFakeClock({ toFake: ["Date"], now: NOW });

function keysOf(setting: string) {
  const keys = eventSigningKeys(setting);
  if (!keys.ok) throw new Error(keys.message);
  return keys.value;
}

const secretOf = (key: Uint8Array) => `whsec_${btoa(String.fromCharCode(...key))}`;

const MESSAGE: JangarEvent = {
  type: "chat.message.created",
  timestamp: NOW.toISOString(),
  data: {
    sessionId: "k17a2b3c4d5e6f7g8h9j0k1m2n3p4q5r" as never,
    messageId: "k97a2b3c4d5e6f7g8h9j0k1m2n3p4q5r" as never,
    role: "user",
    content: "<@U0JANGAR> deploy the API",
    metadata: { slack: { channel: "C1", ts: "1700000000.000100" } },
    source: "slack",
  },
};

/** A request as svix signs it: the reference sender. */
function svixSigned(secret: string, body: string, id = "evt_1", at = NOW) {
  return {
    body,
    headers: { "webhook-id": id, "webhook-timestamp": String(Math.floor(at.getTime() / 1000)), "webhook-signature": new Webhook(secret).sign(id, at, body) },
  };
}

function expectRefused(call: () => unknown, check: EventCheck, message: RegExp) {
  let thrown: unknown;
  try {
    call();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(EventVerificationError);
  expect((thrown as EventVerificationError).check).toBe(check);
  expect((thrown as EventVerificationError).message).toMatch(message);
}

describe("the events-out signer", () => {
  test("gives the Standard Webhooks published vector's signature", async () => {
    // https://github.com/standard-webhooks/standard-webhooks (libraries/javascript/src/webhook.test.ts, "sign function works")
    const headers = await signEventRequest(keysOf(SECRET), { id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1614265330, body: '{"test": 2432232314}' });
    expect(headers).toEqual({
      "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
      "webhook-timestamp": "1614265330",
      "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    });
  });

  test("signs what svix verifies, for any body, id and secret", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 16, maxLength: 64 }),
        fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
        fc.jsonValue(),
        async (key, id, value) => {
          const body = JSON.stringify(value) ?? "null";
          const headers = await signEventRequest([key], { id, timestamp: NOW_S, body });
          expect(new Webhook(secretOf(key)).verify(body, headers)).toEqual(JSON.parse(body));
        },
      ),
      { numRuns: runs(60) },
    );
  });

  test("during a rotation signs with every secret, and svix verifies with either", async () => {
    const body = eventBody(MESSAGE);
    const headers = await signEventRequest(keysOf(`${OTHER_SECRET} ${SECRET}`), { id: "evt_1", timestamp: NOW_S, body });
    expect(headers["webhook-signature"].split(" ")).toHaveLength(2);
    for (const secret of [SECRET, OTHER_SECRET]) {
      expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    }
  });

  test("a JANGAR_EVENTS_SECRET that is not a whsec_ key is refused naming the setting; signing without a key is a TypeError", async () => {
    expect(eventSigningKeys("whsec_not-base64!")).toEqual({ ok: false, message: expect.stringMatching(/^JANGAR_EVENTS_SECRET is not a whsec_<base64> key/) });
    expect(eventSigningKeys(`${SECRET} whsec_c2hvcnQ=`)).toEqual({ ok: false, message: expect.stringMatching(/^secret 2 of JANGAR_EVENTS_SECRET is a 5-byte key/) });
    await expect(signEventRequest([], { id: "evt_1", timestamp: NOW_S, body: "{}" })).rejects.toThrow(TypeError);
  });
});

describe("the service client's verifier", () => {
  test("returns the typed event and its webhook-id for a request svix signed", () => {
    const request = svixSigned(SECRET, eventBody(MESSAGE), "evt_42");
    expect(eventVerifier(SECRET).verify(request.body, request.headers)).toEqual({ id: "evt_42", event: MESSAGE });
    // The same, as raw bytes and with Fetch headers (svix-* names accepted too).
    const svixHeaders = new Headers(Object.entries(request.headers).map(([name, value]): [string, string] => [name.replace("webhook-", "svix-"), value]));
    expect(eventVerifier(SECRET).verify(new TextEncoder().encode(request.body), svixHeaders).event).toEqual(MESSAGE);
  });

  test("admits the Standard Webhooks published vector's signature, then refuses its body, which names no event type; a changed byte fails the signature", () => {
    // https://github.com/standard-webhooks/standard-webhooks (libraries/javascript/src/webhook.test.ts)
    vi.setSystemTime(1614265330 * 1000);
    const headers = { "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330", "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" };
    expectRefused(() => eventVerifier(SECRET).verify('{"test": 2432232314}', headers), "type", /type undefined is not an event type this client knows/);
    expectRefused(() => eventVerifier(SECRET).verify('{"test": 2432232315}', headers), "signature", /no signature/);
  });

  test("verifies what the deployment's signer signs, for random events and secrets", async () => {
    const id = fc.stringMatching(/^k[0-9a-z]{31}$/);
    const event = fc.oneof(
      fc.record({ sessionId: id, messageId: id, content: fc.string() }).map((data) => ({ type: "chat.message.updated" as const, data })),
      fc.record({ sessionId: id, messageId: id }).map((data) => ({ type: "chat.message.deleted" as const, data })),
      fc
        .record({
          workOrderId: id,
          sessionId: id,
          from: fc.constantFrom("draft", "submitted", "accepted", "running"),
          to: fc.constantFrom("running", "succeeded", "failed", "canceled"),
          source: fc.constantFrom("api", "github", "slack", "events", "reconcile"),
          reason: fc.option(fc.string(), { nil: undefined }),
        })
        .map(({ reason, ...data }) => ({ type: "work_order.status.changed" as const, data: reason === undefined ? data : { ...data, reason } })),
    );
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 16, maxLength: 64 }), event, async (key, { type, data }) => {
        const sent = { type, timestamp: NOW.toISOString(), data } as JangarEvent;
        const body = eventBody(sent);
        const headers = await signEventRequest([key], { id: "evt_1", timestamp: NOW_S, body });
        expect(eventVerifier(secretOf(key)).verify(body, headers)).toEqual({ id: "evt_1", event: sent });
      }),
      { numRuns: runs(60) },
    );
  });

  test("accepts a request signed by either secret during a rotation", () => {
    for (const signedBy of [SECRET, OTHER_SECRET]) {
      const request = svixSigned(signedBy, eventBody(MESSAGE));
      expect(eventVerifier(`${SECRET} ${OTHER_SECRET}`).verify(request.body, request.headers).event).toEqual(MESSAGE);
    }
  });

  test.each([
    ["a tampered body", (r: Signed) => ({ ...r, body: r.body.replace("deploy", "delete") }), "signature", /no signature in webhook-signature matches a secret of JANGAR_EVENTS_SECRET/],
    ["another secret", () => svixSigned(OTHER_SECRET, eventBody(MESSAGE)), "signature", /no signature in webhook-signature matches/],
    ["a tampered signature", (r: Signed) => ({ ...r, headers: { ...r.headers, "webhook-signature": r.headers["webhook-signature"].replace(/.,$|.$/, "A") } }), "signature", /no signature/],
    ["a timestamp moved by one second", (r: Signed) => ({ ...r, headers: { ...r.headers, "webhook-timestamp": String(NOW_S + 1) } }), "signature", /no signature/],
    ["a timestamp six minutes old", () => svixSigned(SECRET, eventBody(MESSAGE), "evt_1", new Date(NOW.getTime() - 6 * 60_000)), "timestamp", /not within five minutes of now/],
    ["a timestamp six minutes ahead", () => svixSigned(SECRET, eventBody(MESSAGE), "evt_1", new Date(NOW.getTime() + 6 * 60_000)), "timestamp", /not within five minutes of now/],
    ["a timestamp that is not a number", (r: Signed) => ({ ...r, headers: { ...r.headers, "webhook-timestamp": "yesterday" } }), "timestamp", /not Unix seconds/],
    ["no webhook-signature", (r: Signed) => ({ ...r, headers: { "webhook-id": "evt_1", "webhook-timestamp": String(NOW_S) } }), "headers", /webhook-signature is missing/],
    ["webhook-id sent twice", (r: Signed) => ({ ...r, headers: { ...r.headers, "webhook-id": ["evt_1", "evt_2"] } }), "headers", /webhook-id is sent more than once/],
  ] as const)("refuses %s, saying which check failed", (_label, change, check, message) => {
    const request = change(svixSigned(SECRET, eventBody(MESSAGE)) as Signed) as { body: string; headers: Record<string, string | string[]> };
    expectRefused(() => eventVerifier(SECRET).verify(request.body, request.headers), check, message);
  });

  test.each([
    ["an unknown type", { ...MESSAGE, type: "chat.message.edited" }, "type", /type "chat\.message\.edited" is not an event type this client knows \(chat\.message\.created, .*\); update the service client/],
    ["data without its sessionId", { ...MESSAGE, data: { ...MESSAGE.data, sessionId: undefined } }, "data", /the chat\.message\.created event's data is invalid: data\.sessionId/],
    ["a role that is not one", { ...MESSAGE, data: { ...MESSAGE.data, role: "bot" } }, "data", /data\.role/],
    ["a source that is not one", { ...MESSAGE, data: { ...MESSAGE.data, source: "email" } }, "data", /data\.source/],
    ["a timestamp in milliseconds", { ...MESSAGE, timestamp: NOW.getTime() }, "body", /timestamp must be ISO 8601/],
    ["an array", [MESSAGE], "body", /not a \{ type, timestamp, data \} object/],
  ])("refuses a verified body with %s, as a typed error", (_label, body, check, message) => {
    const request = svixSigned(SECRET, JSON.stringify(body));
    expectRefused(() => eventVerifier(SECRET).verify(request.body, request.headers), check as EventCheck, message);
  });

  test("refuses a verified body that is not JSON, and bytes that are not UTF-8", () => {
    const request = svixSigned(SECRET, "not json");
    expectRefused(() => eventVerifier(SECRET).verify(request.body, request.headers), "body", /not JSON/);
    expectRefused(() => eventVerifier(SECRET).verify(new Uint8Array([0xff, 0xfe]), request.headers), "body", /not UTF-8/);
  });

  test("answers 401 for a signature or timestamp, 400 for the rest, as the deployment's routes do", () => {
    expect(new EventVerificationError("signature", "x").status).toBe(401);
    expect(new EventVerificationError("timestamp", "x").status).toBe(401);
    expect(new EventVerificationError("headers", "x").status).toBe(400);
    expect(new EventVerificationError("data", "x").status).toBe(400);
  });

  test("a secret that is not whsec_<base64> is a TypeError naming JANGAR_EVENTS_SECRET", () => {
    expect(() => eventVerifier("hunter2!")).toThrow(new TypeError("JANGAR_EVENTS_SECRET is not a whsec_<base64> key."));
    expect(() => eventVerifier("whsec_aHVudGVyMg==")).toThrow(new TypeError("JANGAR_EVENTS_SECRET is a 7-byte key; at least 16 bytes are needed."));
  });
});

type Signed = ReturnType<typeof svixSigned>;
