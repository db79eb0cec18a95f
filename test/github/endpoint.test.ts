import examples from "@octokit/webhooks-examples";
import { describe, expect, test, vi } from "vitest";
import type { Id } from "../../convex/_generated/dataModel";
import { signGithubPayload, verifyGithubSignature } from "../../src/sources/github/signature";
import { newBackend, type Backend } from "../helpers/backend";
import { GITHUB_SECRET, githubRequest, postGithub } from "../helpers/senders/github";
import { newSession, newWorkOrder, linksOf } from "../helpers/records";
import { withFakeClock, settle } from "../helpers/clock";
import { deliveryRow, expectNothingStored, keptBodies, keptBodiesOf, PROCESSING_RUNS, stored, storedBody } from "../helpers/inbox";

/*
 * POST /webhooks/github as a sender sees it (docs/contract.md#3-webhook-routes): the
 * status and JSON body of each row of the response table, and what the
 * inbox kept: webhook_deliveries rows and raw bodies in file storage.
 */

// Processing runs only when a test settles it, never beside the next request.
withFakeClock();

const utf8 = new TextEncoder();

/** A payload GitHub documents for this event (octokit/webhooks examples), as a fresh copy. */
function githubExample(
  event: string,
  matches: (payload: Record<string, unknown>) => boolean = () => true,
): Record<string, unknown> {
  const payload = examples
    .find((definition) => definition.name === event)
    ?.examples.map((example) => example as unknown as Record<string, unknown>)
    .find(matches);
  if (payload === undefined) {
    throw new Error(`@octokit/webhooks-examples has no matching ${event} example.`);
  }
  return structuredClone(payload);
}

// A push of one commit ("Initial commit") to Codertocat/Hello-World's master branch.
const pushToMaster = () =>
  githubExample("push", (payload) => payload.ref === "refs/heads/master" && payload.deleted === false);
const PUSHED_COMMIT = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";
const HELLO_WORLD_MASTER = { targetRepo: "Codertocat/Hello-World", targetBranch: "master" };

/** X-Hub-Signature-256 over raw bytes, computed with Web Crypto, independently of the code under test. */
async function signBytes(secret: string, body: Uint8Array): Promise<string> {
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
async function postBody(
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
function pingOfSize(bytes: number): string {
  const shape = (zen: string) => JSON.stringify({ zen, hook_id: 292430182 });
  const body = shape("Design for failure.".padEnd(bytes - shape("").length, "."));
  expect(utf8.encode(body).length).toBe(bytes);
  return body;
}

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
    const payload = githubExample("pull_request", (example) => example.action === "opened");
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

describe("POST /webhooks/github: accepted deliveries", () => {
  test("a form-encoded hook (JSON in the payload field, signature over the form body) is accepted and processed like JSON", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const workOrderId = await newWorkOrder(t, sessionId, { target: HELLO_WORLD_MASTER });
    const response = await postGithub(t, { event: "push", payload: pushToMaster(), form: true });
    expect(response).toEqual({ status: 200, body: { status: "accepted", delivery: expect.any(String) } });
    await settle(t);
    const { deliveries } = await stored(t);
    expect(deliveries).toMatchObject([
      {
        _id: response.body.delivery,
        event: "push",
        contentType: "application/x-www-form-urlencoded",
        status: "processed",
      },
    ]);
    expect(await keptBodies(t)).toBe(1);
    expect(await linksOf(t, workOrderId)).toEqual([{ kind: "commit", value: PUSHED_COMMIT }]);
  });

  test("a UTF-8 payload with emoji and non-Latin text, signed over its bytes, is accepted and stored byte for byte", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const workOrderId = await newWorkOrder(t, sessionId);
    const payload = githubExample("issues", (example) => example.action === "opened");
    const issue = payload.issue as Record<string, unknown>;
    issue.title = "ログインが失敗する 🚀";
    issue.body = `Σφάλμα κατά τη σύνδεση 😱 — 登录失败 🇯🇵\nWork-Order: ${workOrderId}\n`;
    const text = JSON.stringify(payload);
    const bytes = utf8.encode(text);
    expect(bytes.length).toBeGreaterThan(text.length);

    const response = await postBody(t, { event: "issues", body: bytes });
    expect(response).toEqual({ status: 200, body: { status: "accepted", delivery: expect.any(String) } });
    const deliveryId = response.body.delivery as Id<"webhook_deliveries">;
    expect(await storedBody(t, deliveryId)).toEqual(Array.from(bytes));
    const { deliveries } = await stored(t);
    expect(deliveries).toMatchObject([{ bodyBytes: bytes.length, event: "issues", action: "opened" }]);

    await settle(t);
    // The marker in the non-Latin body was read: the issue is linked (in its canonical, lower-case form).
    expect(await linksOf(t, workOrderId)).toEqual([
      { kind: "github_issue", value: "https://github.com/codertocat/hello-world/issues/1" },
    ]);
  });
});

describe("POST /webhooks/github: deduplication and ignored events", () => {
  test("the same hook id and delivery GUID again is a duplicate: one row, one body, effects applied once", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const workOrderId = await newWorkOrder(t, sessionId, { target: HELLO_WORLD_MASTER });
    const delivery = {
      event: "push",
      payload: pushToMaster(),
      hookId: "292430182",
      guid: "9a8f3c10-1f6e-11ef-8a3b-6f0b4e1c2d3a",
    };

    const first = await postGithub(t, delivery);
    expect(first).toEqual({ status: 200, body: { status: "accepted", delivery: expect.any(String) } });
    // A redelivery before the first is processed, and another after.
    const beforeProcessing = await postGithub(t, delivery);
    await settle(t);
    const afterProcessing = await postGithub(t, delivery);
    await settle(t);
    for (const again of [beforeProcessing, afterProcessing]) {
      expect(again).toEqual({ status: 200, body: { status: "duplicate", delivery: first.body.delivery } });
    }

    const { deliveries } = await stored(t);
    expect(deliveries).toMatchObject([
      {
        _id: first.body.delivery,
        deliveryKey: "292430182:9a8f3c10-1f6e-11ef-8a3b-6f0b4e1c2d3a",
        status: "processed",
        attempts: 1,
      },
    ]);
    expect(await keptBodiesOf(t)).toMatchObject([{ deliveryId: deliveries[0]._id }]);
    expect(await linksOf(t, workOrderId)).toEqual([{ kind: "commit", value: PUSHED_COMMIT }]);
    const processingRuns = await t.run(async (ctx) =>
      (await ctx.db.system.query("_scheduled_functions").collect()).filter((job) => PROCESSING_RUNS.includes(job.name)),
    );
    expect(processingRuns).toHaveLength(1);
  });

  test("the same delivery GUID from another hook is a separate delivery", async () => {
    const t = newBackend();
    const guid = "5c1e0f2a-1f6f-11ef-9d4e-0a7b3c9d8e21";
    const repositoryHook = await postGithub(t, { event: "push", payload: pushToMaster(), hookId: "292430182", guid });
    const organizationHook = await postGithub(t, { event: "push", payload: pushToMaster(), hookId: "109948940", guid });
    for (const response of [repositoryHook, organizationHook]) {
      expect(response).toEqual({ status: 200, body: { status: "accepted", delivery: expect.any(String) } });
    }
    expect(organizationHook.body.delivery).not.toBe(repositoryHook.body.delivery);
    const { deliveries } = await stored(t);
    expect(deliveries.map((row) => row.deliveryKey).sort()).toEqual([`109948940:${guid}`, `292430182:${guid}`]);
    expect(await keptBodies(t)).toBe(2);
  });

  test("an event nothing acts on (star) is 200 ignored with a reason, and still recorded with its body", async () => {
    const t = newBackend();
    const payload = githubExample("star", (example) => example.action === "created");
    const response = await postGithub(t, { event: "star", payload });
    expect(response).toEqual({
      status: 200,
      body: { status: "ignored", delivery: expect.any(String), reason: expect.stringContaining("star") },
    });
    const { deliveries } = await stored(t);
    expect(deliveries).toMatchObject([
      {
        _id: response.body.delivery,
        source: "github",
        event: "star",
        action: "created",
        status: "ignored",
        ignoredReason: response.body.reason,
      },
    ]);
    expect(await keptBodiesOf(t)).toMatchObject([{ deliveryId: deliveries[0]._id }]);
    const deliveryId = response.body.delivery as Id<"webhook_deliveries">;
    expect(await storedBody(t, deliveryId)).toEqual(Array.from(utf8.encode(JSON.stringify(payload))));
  });
});

describe("POST /webhooks/github: Work-Order markers are bounded", () => {
  /** A push of one commit to a branch no order targets, with this message. */
  const pushWithMessage = (message: string) => ({
    ref: "refs/heads/feature/markers",
    deleted: false,
    repository: { full_name: "acme/api" },
    commits: [{ id: PUSHED_COMMIT, message }],
  });

  test("a commit message with 4,200 markers links the first 20 distinct orders and records the rest once, with their count", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const orders: Id<"work_orders">[] = [];
    for (let i = 0; i < 21; i += 1) {
      orders.push(await newWorkOrder(t, sessionId, { title: `Order ${i}` }));
    }
    // 21 real orders, then id-shaped values that name none; 4,200 marker lines in all.
    const unknown = Array.from({ length: 4200 - orders.length }, (_, i) => `k${String(i).padStart(31, "0")}`);
    const message = ["Sweep", "", ...[...orders, ...unknown].map((id) => `Work-Order: ${id}`)].join("\n");
    const response = await postGithub(t, { event: "push", payload: pushWithMessage(message) });
    expect(response).toEqual({ status: 200, body: { status: "accepted", delivery: expect.any(String) } });
    await settle(t);

    for (const [i, workOrderId] of orders.entries()) {
      expect(await linksOf(t, workOrderId), `order ${i}`).toEqual(i < 20 ? [{ kind: "commit", value: PUSHED_COMMIT }] : []);
    }
    expect(await deliveryRow(t, response.body.delivery)).toMatchObject({
      status: "processed",
      touchedCount: 20,
      skipped: ["4180 Work-Order marker(s) past the first 20 distinct orders were not followed."],
    });
  });

  test("a marker whose value is not shaped like an order id (40 KB of it) is ignored, and the delivery row stays small", async () => {
    const t = newBackend();
    const workOrderId = await newWorkOrder(t, await newSession(t, "alice"));
    const message = `Fix login\n\nWork-Order: ${"x".repeat(40_000)}\nWork-Order: ${workOrderId}\nWork-Order: wo-2026-0042`;
    const response = await postGithub(t, { event: "push", payload: pushWithMessage(message) });
    await settle(t);
    expect(await linksOf(t, workOrderId)).toEqual([{ kind: "commit", value: PUSHED_COMMIT }]);
    const row = await deliveryRow(t, response.body.delivery);
    expect(row).toMatchObject({ status: "processed", touchedCount: 1 });
    expect(row.skipped).toBeUndefined();
    expect(JSON.stringify(row).length).toBeLessThan(2000);
  });

  test("a marker line ending in CR LF (as GitHub's web editor writes bodies) is read", async () => {
    const t = newBackend();
    const workOrderId = await newWorkOrder(t, await newSession(t, "alice"));
    const payload = githubExample("pull_request", (example) => example.action === "opened");
    (payload.pull_request as Record<string, unknown>).body = `Adds SSO.\r\n\r\nWork-Order: ${workOrderId}\r\n`;
    await postGithub(t, { event: "pull_request", payload });
    await settle(t);
    expect(await linksOf(t, workOrderId)).toEqual([{ kind: "pr", value: "https://github.com/codertocat/hello-world/pull/2" }]);
  });
});

describe("GET /healthz", () => {
  test("answers 200 with status ok", async () => {
    const t = newBackend();
    const response = await t.fetch("/healthz", { method: "GET" });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });
});
