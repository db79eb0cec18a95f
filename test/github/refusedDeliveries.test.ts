import { describe, expect, test, vi } from "vitest";
import { signGithubPayload, verifyGithubSignature } from "../../src/sources/github/signature";
import { newBackend } from "../helpers/backend";
import { GITHUB_SECRET, postGithub } from "../helpers/senders/github";
import { example } from "../helpers/github/examples";
import { withFakeClock } from "../helpers/clock";
import { expectNothingStored, keptBodiesOf, stored } from "../helpers/inbox/deliveries";
import { pingOfSize, postBody, pushToMaster, signBytes } from "../helpers/senders/githubBytes";

/*
 * POST /webhooks/github as a sender sees it (docs/contract.md#3-webhook-routes): the
 * status and JSON body of each row of the response table, and what the
 * inbox kept: webhook_deliveries rows and raw bodies in file storage.
 */

// Processing runs only when a test settles it, never beside the next request.
withFakeClock();

const utf8 = new TextEncoder();

describe("GitHub's signature (X-Hub-Signature-256)", () => {
  // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
  const secret = "It's a Secret to Everybody";
  const payload = "Hello, World!";
  const signature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

  test("signing GitHub's published test payload gives GitHub's published signature", async () => {
    expect(await signGithubPayload(secret, payload)).toBe(signature);
  });

  test("the published signature verifies, and a one-character change of payload or signature does not", async () => {
    expect(await verifyGithubSignature(secret, payload, signature)).toBe(true);
    expect(await verifyGithubSignature(secret, "Hello, World?", signature)).toBe(false);
    expect(await verifyGithubSignature(secret, payload, `${signature.slice(0, -1)}8`)).toBe(false);
    expect(await verifyGithubSignature("It's a Secret to everybody", payload, signature)).toBe(false);
  });

  test("upper-case hex digits verify like lower-case ones", async () => {
    const upper = `sha256=${signature.slice("sha256=".length).toUpperCase()}`;
    expect(await verifyGithubSignature(secret, payload, upper)).toBe(true);
  });

  test.each([
    ["non-hex digits", "sha256=zz"],
    ["an empty header", ""],
    ["the prefix alone", "sha256="],
    ["truncated hex", signature.slice(0, -2)],
    ["hex with a byte too many", `${signature}00`],
    ["a SHA-1 signature (X-Hub-Signature's form)", "sha1=0a3c5a4e5d6b5f6fbd1b61e8f4d0c6d7f1a23b99"],
    ["the bare hex without its prefix", signature.slice("sha256=".length)],
    ["two signatures joined with a comma", `${signature}, ${signature}`],
  ])("a malformed signature (%s) is rejected without throwing", async (_form, malformed) => {
    await expect(verifyGithubSignature(secret, payload, malformed)).resolves.toBe(false);
  });
});

describe("POST /webhooks/github: refused requests store nothing", () => {
  test.each(["X-GitHub-Event", "X-GitHub-Delivery", "X-GitHub-Hook-ID", "X-Hub-Signature-256"])(
    "a delivery without %s is 400 naming the header",
    async (header) => {
      const t = newBackend();
      const response = await postGithub(t, { event: "push", payload: pushToMaster(), headers: { [header]: null } });
      expect(response.status).toBe(400);
      expect(response.body.error).toEqual(expect.stringContaining(header));
      await expectNothingStored(t);
    },
  );

  test("an empty X-Hub-Signature-256 counts as missing: 400 naming the header", async () => {
    const t = newBackend();
    const response = await postGithub(t, {
      event: "push",
      payload: pushToMaster(),
      headers: { "X-Hub-Signature-256": "" },
    });
    expect(response.status).toBe(400);
    expect(response.body.error).toEqual(expect.stringContaining("X-Hub-Signature-256"));
    await expectNothingStored(t);
  });

  test("a delivery signed with another secret is 401", async () => {
    const t = newBackend();
    const response = await postGithub(t, { event: "push", payload: pushToMaster(), secret: "not the secret" });
    expect(response.status).toBe(401);
    expect(response.body.error).toEqual(expect.stringContaining("GITHUB_WEBHOOK_SECRET"));
    await expectNothingStored(t);
  });

  test.each([
    ["non-hex digits", "sha256=zz"],
    ["the prefix alone", "sha256="],
    ["truncated hex", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e"],
    ["two signatures joined with a comma", "sha256=00, sha256=11"],
  ])("a malformed signature (%s) is 401", async (_form, signature) => {
    const t = newBackend();
    const response = await postGithub(t, {
      event: "push",
      payload: pushToMaster(),
      headers: { "X-Hub-Signature-256": signature },
    });
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ error: expect.stringContaining("X-Hub-Signature-256") });
    await expectNothingStored(t);
  });

  test("a signature made for a different body is 401", async () => {
    const t = newBackend();
    const original = pushToMaster();
    const tampered = { ...original, ref: "refs/heads/main" };
    const response = await postGithub(t, {
      event: "push",
      payload: tampered,
      headers: { "X-Hub-Signature-256": await signGithubPayload(GITHUB_SECRET, JSON.stringify(original)) },
    });
    expect(response.status).toBe(401);
    await expectNothingStored(t);
  });

  test("a correctly signed body that is not JSON is 400", async () => {
    const t = newBackend();
    const response = await postBody(t, { event: "push", body: "ref=refs/heads/master&commits=1" });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: expect.stringMatching(/not JSON/) });
    await expectNothingStored(t);
  });

  test("a push whose commits is a string is 400 naming commits", async () => {
    const t = newBackend();
    const response = await postGithub(t, {
      event: "push",
      payload: { ...pushToMaster(), commits: "6113728f27ae82c7b1a177c8d03f9e96e0adf246" },
    });
    expect(response.status).toBe(400);
    expect(response.body.error).toEqual(expect.stringMatching(/push payload.*\bcommits\b/));
    await expectNothingStored(t);
  });

  test("a pull_request without pull_request.html_url is 400 naming that field", async () => {
    const t = newBackend();
    const payload = example("pull_request", "opened");
    delete (payload.pull_request as Record<string, unknown>).html_url;
    const response = await postGithub(t, { event: "pull_request", payload });
    expect(response.status).toBe(400);
    expect(response.body.error).toEqual(expect.stringContaining("pull_request.html_url"));
    await expectNothingStored(t);
  });

  test("a form-encoded body without a payload field is 400", async () => {
    const t = newBackend();
    const response = await postBody(t, {
      event: "push",
      body: new URLSearchParams({ ref: "refs/heads/master" }).toString(),
      contentType: "application/x-www-form-urlencoded",
    });
    expect(response.status).toBe(400);
    expect(response.body.error).toEqual(expect.stringContaining("payload"));
    await expectNothingStored(t);
  });

  test.each([
    ["text/plain", "text/plain"],
    ["no content type", null],
  ])("a correctly signed JSON body sent as %s is 415", async (_label, contentType) => {
    const t = newBackend();
    const response = await postBody(t, { event: "push", body: JSON.stringify(pushToMaster()), contentType });
    expect(response.status).toBe(415);
    expect(response.body.error).toEqual(expect.stringContaining("application/json"));
    await expectNothingStored(t);
  });

  test("a body over WEBHOOK_MAX_BODY_BYTES is 413", async () => {
    vi.stubEnv("WEBHOOK_MAX_BODY_BYTES", "1024");
    const t = newBackend();
    const payload = pushToMaster();
    expect(utf8.encode(JSON.stringify(payload)).length).toBeGreaterThan(1024);
    const response = await postGithub(t, { event: "push", payload });
    expect(response.status).toBe(413);
    expect(response.body.error).toEqual(expect.stringContaining("WEBHOOK_MAX_BODY_BYTES"));
    await expectNothingStored(t);
  });

  test("a body of exactly WEBHOOK_MAX_BODY_BYTES is accepted, one byte more is 413", async () => {
    vi.stubEnv("WEBHOOK_MAX_BODY_BYTES", "1024");
    const t = newBackend();
    const atLimit = await postBody(t, { event: "ping", body: pingOfSize(1024) });
    expect(atLimit).toEqual({ status: 200, body: { status: "accepted", delivery: expect.any(String) } });
    const overLimit = await postBody(t, { event: "ping", body: pingOfSize(1025) });
    expect(overLimit.status).toBe(413);
    const { deliveries } = await stored(t);
    expect(deliveries).toMatchObject([{ _id: atLimit.body.delivery, bodyBytes: 1024 }]);
    expect(await keptBodiesOf(t)).toEqual([{ deliveryId: deliveries[0]._id, bytes: 1024 }]);
  });

  test("WEBHOOK_MAX_BODY_BYTES that is not a number is 503 naming the setting", async () => {
    vi.stubEnv("WEBHOOK_MAX_BODY_BYTES", "twenty megs");
    const t = newBackend();
    const response = await postGithub(t, { event: "push", payload: pushToMaster() });
    expect(response.status).toBe(503);
    expect(response.body.error).toEqual(expect.stringContaining("WEBHOOK_MAX_BODY_BYTES"));
    await expectNothingStored(t);
  });

  test.each([
    ["unset", undefined],
    ["blank", "   "],
  ])("with GITHUB_WEBHOOK_SECRET %s a correctly signed delivery is 503 and nothing is stored", async (_label, value) => {
    vi.stubEnv("GITHUB_WEBHOOK_SECRET", value);
    const t = newBackend();
    const response = await postGithub(t, { event: "push", payload: pushToMaster() });
    expect(response.status).toBe(503);
    expect(response.body.error).toEqual(expect.stringContaining("GITHUB_WEBHOOK_SECRET"));
    await expectNothingStored(t);
  });

  test("an empty body is 400", async () => {
    const t = newBackend();
    const response = await postBody(t, { event: "ping", body: "" });
    expect(response.status).toBe(400);
    expect(response.body.error).toEqual(expect.stringContaining("empty"));
    await expectNothingStored(t);
  });

  test("a leading byte-order mark is part of the signed bytes: verified, then 400 as not JSON", async () => {
    const t = newBackend();
    const body = new Uint8Array([0xef, 0xbb, 0xbf, ...utf8.encode('{"zen":"x"}')]);
    const signedOverRawBytes = await postBody(t, { event: "ping", body });
    expect(signedOverRawBytes).toEqual({ status: 400, body: { error: expect.stringMatching(/not JSON/) } });
    const signedWithoutMark = await postBody(t, {
      event: "ping",
      body,
      headers: { "X-Hub-Signature-256": await signBytes(GITHUB_SECRET, body.slice(3)) },
    });
    expect(signedWithoutMark.status).toBe(401);
    await expectNothingStored(t);
  });

  test("a body that is not valid UTF-8 is 400", async () => {
    const t = newBackend();
    const body = new Uint8Array([...utf8.encode('{"zen":"'), 0xc3, 0x28, 0xff, ...utf8.encode('"}')]);
    const response = await postBody(t, { event: "ping", body });
    expect(response.status).toBe(400);
    expect(response.body.error).toEqual(expect.stringContaining("UTF-8"));
    await expectNothingStored(t);
  });
});
