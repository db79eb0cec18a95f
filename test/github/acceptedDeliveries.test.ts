import { describe, expect, test } from "vitest";
import type { Id } from "../../convex/_generated/dataModel";
import { newBackend } from "../helpers/backend";
import { postGithub } from "../helpers/senders/github";
import { newSession, newWorkOrder, linksOf } from "../helpers/records";
import { example } from "../helpers/github/examples";
import { withFakeClock, settle } from "../helpers/clock";
import { deliveryRow, keptBodies, keptBodiesOf, PROCESSING_RUNS, stored, storedBody } from "../helpers/inbox/deliveries";
import { HELLO_WORLD_MASTER, postBody, pushToMaster, PUSHED_COMMIT } from "../helpers/senders/githubBytes";

/*
 * POST /webhooks/github as a sender sees it (docs/contract.md#3-webhook-routes): the
 * status and JSON body of each row of the response table, and what the
 * inbox kept: webhook_deliveries rows and raw bodies in file storage.
 */

// Processing runs only when a test settles it, never beside the next request.
withFakeClock();

const utf8 = new TextEncoder();

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
    const payload = example("issues", "opened");
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
    const payload = example("star", "created");
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
    const payload = example("pull_request", "opened");
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
