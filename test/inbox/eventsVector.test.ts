import { describe, expect, test, vi } from "vitest";
import { signStandardWebhook, signingKeys, verifyStandardWebhook } from "../../src/sources/events/signature";
import { newBackend } from "../helpers/backend";
import { onEventsEndpoint } from "../helpers/senders/events";
import { expectNothingStored } from "../helpers/inbox/deliveries";

/*
 * POST /webhooks/events (docs/contract.md#standard-webhooks-webhooksevents-body--type-timestamp-data-):
 * the scheme's published test vector, through the signer, the verifier and
 * the endpoint.
 */

onEventsEndpoint();

describe("the Standard Webhooks published test vector", () => {
  const MINUTE_S = 60;
  const utf8 = new TextEncoder();
  // https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
  const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
  const timestamp = 1614265330;
  const body = '{"test": 2432232314}';
  const signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
  const headers = { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": signature };

  const keys = () => {
    const parsed = signingKeys(secret, "EVENTS_WEBHOOK_SECRET");
    if (!parsed.ok) throw new Error(parsed.message);
    return parsed.value;
  };

  test("the signer gives the vector's published signature, and the verifier accepts it at its time", async () => {
    expect(await signStandardWebhook(secret, id, timestamp, utf8.encode(body))).toBe(signature);
    expect(await verifyStandardWebhook(keys(), { id, timestamp: String(timestamp), signature }, utf8.encode(body), timestamp)).toEqual({
      ok: true,
      value: undefined,
    });
  });

  test.each([
    ["another body", { body: '{"test": 2432232315}' }, /No signature in webhook-signature matches/],
    ["another id", { id: "msg_p5jXN8AQM9LWM0D4loKWxJel" }, /No signature in webhook-signature matches/],
    ["another timestamp", { timestamp: String(timestamp + 1) }, /No signature in webhook-signature matches/],
    ["the signature under version v2", { signature: signature.replace("v1,", "v2,") }, /No signature in webhook-signature matches/],
    ["a timestamp six minutes old", { now: timestamp + 6 * MINUTE_S }, /webhook-timestamp must be within five minutes of now; it is 360 seconds old/],
    ["a timestamp six minutes ahead", { now: timestamp - 6 * MINUTE_S }, /webhook-timestamp must be within five minutes of now; it is 360 seconds ahead/],
    ["a timestamp in milliseconds", { timestamp: `${timestamp}000` }, /webhook-timestamp must be a Unix time in seconds/],
    ["a timestamp that is not a number", { timestamp: "Thu, 25 Feb 2021" }, /webhook-timestamp must be a Unix time in seconds/],
  ])("the vector with %s does not verify, and the failure says which check failed", async (_label, change, message) => {
    const changed = { id, timestamp: String(timestamp), signature, body, now: timestamp, ...change };
    const verified = await verifyStandardWebhook(keys(), changed, utf8.encode(changed.body), changed.now);
    expect(verified).toEqual({ ok: false, message: expect.stringMatching(message) });
  });

  test("the vector's signature among others, and with a second key configured (rotation), verifies", async () => {
    const rotated = signingKeys(`whsec_c29tZW9uZSBlbHNlIHMga2V5IDAwMDM= ${secret}`, "EVENTS_WEBHOOK_SECRET");
    expect(rotated.ok).toBe(true);
    const several = { id, timestamp: String(timestamp), signature: `v1,bm90IGl0 ${signature} v1a,xyz` };
    expect(await verifyStandardWebhook(rotated.ok ? rotated.value : [], several, utf8.encode(body), timestamp)).toMatchObject({ ok: true });
  });

  test("signing with a key that is not whsec_<base64> is a TypeError, not a signature", async () => {
    await expect(signStandardWebhook("whsec_not-base64!", id, timestamp, utf8.encode(body))).rejects.toThrow(TypeError);
  });

  test("the endpoint accepts the vector's signature, then refuses its shape (400, not 401); six minutes later it is 401", async () => {
    vi.stubEnv("EVENTS_WEBHOOK_SECRET", secret);
    vi.setSystemTime(timestamp * 1000);
    const t = newBackend();
    const post = async () => {
      const response = await t.fetch("/webhooks/events", {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body,
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };

    // Verified: the refusal is about the body having no `type`, not about the signature.
    const inWindow = await post();
    expect(inWindow).toEqual({
      status: 400,
      body: { error: expect.stringMatching(/not a \{ type, timestamp, data \} event: type: /) },
    });

    vi.setSystemTime((timestamp + 6 * MINUTE_S) * 1000);
    const late = await post();
    expect(late).toEqual({ status: 401, body: { error: expect.stringContaining("webhook-timestamp") } });
    await expectNothingStored(t);
  });
});
