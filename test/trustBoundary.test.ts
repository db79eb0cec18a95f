import fc from "fast-check";
import { describe, expect, test, vi } from "vitest";
import { internal } from "../convex/_generated/api";
import { deliveryKey } from "../src/sources/source";
import { newBackend, type Backend } from "./helpers/backend";
import { messageCreated, postEvent } from "./helpers/senders/events";
import { githubRequest, postGithub } from "./helpers/senders/github";
import { newSession, orderOf } from "./helpers/records";
import { withEverySenderConfigured } from "./helpers/senders/all";
import { postSlack } from "./helpers/senders/slack";
import { stored, expectNothingStored } from "./helpers/inbox";
import { settle } from "./helpers/clock";
import { liveOrder } from "./helpers/workOrders";

/*
 * The receiving side's trust boundary
 * (docs/contract.md#trust-boundary): what a sender controls without
 * holding the secret (the Content-Type, the event header, the delivery ids)
 * cannot make a signed body mean something else, nor make a real delivery
 * disappear.
 */

withEverySenderConfigured();

const FORM = "application/x-www-form-urlencoded";
const MERGE_SHA = "9f2c4e1b7a3d5c6e8f0a1b2c3d4e5f60718293a4";

/** A running work order, the target of acme/api's main branch. */
async function runningOrder(t: Backend) {
  return await liveOrder(t, await newSession(t, "alice"), { targetRepo: "acme/api", targetBranch: "main" });
}

/** A pull_request `closed` event with `merged: true` that names the order by a marker. */
function mergeOf(workOrderId: string) {
  return {
    action: "closed",
    number: 9,
    repository: { full_name: "acme/api" },
    pull_request: {
      html_url: "https://github.com/acme/api/pull/9",
      body: `Work-Order: ${workOrderId}`,
      merged: true,
      merge_commit_sha: MERGE_SHA,
      head: { ref: "main", repo: { full_name: "acme/api" } },
    },
  };
}

/** Posts a request GitHub signed, with some of its unsigned headers changed. */
async function resend(t: Backend, signed: RequestInit, headers: Record<string, string>) {
  const response = await t.fetch("/webhooks/github", {
    ...signed,
    headers: { ...(signed.headers as Record<string, string>), ...headers },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("a body is read only as its Content-Type says", () => {
  test("a signed issues body that smuggles `&payload=` cannot be re-sent as a form-encoded merge: 400, the order untouched", async () => {
    const t = newBackend();
    const victim = await runningOrder(t);
    // Anyone may open an issue; GitHub signs its text, whatever it holds.
    const issue = {
      action: "opened",
      repository: { full_name: "acme/api" },
      issue: {
        html_url: "https://github.com/acme/api/issues/77",
        body: `Nice project!&payload=${encodeURIComponent(JSON.stringify(mergeOf(victim)))}&rest=`,
      },
    };
    const signed = await githubRequest({ event: "issues", payload: issue });

    const forged = await resend(t, signed, {
      "Content-Type": FORM,
      "X-GitHub-Event": "pull_request",
      "X-GitHub-Delivery": "d1b0c6a2-0000-4000-8000-000000000001",
    });
    await settle(t);
    expect(forged).toEqual({ status: 400, body: { error: expect.stringContaining("payload") } });
    expect(await orderOf(t, victim)).toMatchObject({ status: "running", links: [] });
    await expectNothingStored(t);

    // The same bytes as GitHub sent them are an issues event, and only that.
    const genuine = await resend(t, signed, {});
    expect(genuine).toEqual({ status: 200, body: { status: "accepted", delivery: expect.any(String) } });
    await settle(t);
    expect(await orderOf(t, victim)).toMatchObject({ status: "running", links: [] });
  });

  test.each([
    ["a second field after payload", (json: string) => `payload=${encodeURIComponent(json)}&hook=1`],
    ["a field before payload", (json: string) => `zen=1&payload=${encodeURIComponent(json)}`],
    ["payload twice", (json: string) => `payload=${encodeURIComponent(json)}&payload=${encodeURIComponent(json)}`],
  ])("a form-encoded body with %s is 400: a GitHub form body is exactly one field, payload", async (_label, form) => {
    const t = newBackend();
    const victim = await runningOrder(t);
    const signed = await githubRequest({ event: "pull_request", payload: null });
    const body = form(JSON.stringify(mergeOf(victim)));
    const { signGithubPayload } = await import("../src/sources/github/signature");
    const response = await resend(t, { ...signed, body }, {
      "Content-Type": FORM,
      "X-Hub-Signature-256": await signGithubPayload("It's a Secret to Everybody", body),
    });
    expect(response).toEqual({ status: 400, body: { error: expect.stringContaining("payload") } });
    await settle(t);
    expect((await orderOf(t, victim)).status).toBe("running");
    await expectNothingStored(t);
  });

  test.each([
    [
      "an issue_comment payload sent as issues",
      "issues",
      {
        action: "created",
        repository: { full_name: "acme/api" },
        issue: { html_url: "https://github.com/acme/api/issues/5", body: "Work-Order: x" },
        comment: { body: "+1" },
      },
    ],
    [
      "a pull_request_review payload sent as pull_request",
      "pull_request",
      {
        action: "submitted",
        repository: { full_name: "acme/api" },
        pull_request: { html_url: "https://github.com/acme/api/pull/9", body: "", head: { ref: "main", repo: null } },
        review: { state: "approved" },
      },
    ],
  ])("%s (X-GitHub-Event is not signed) is 400", async (_label, event, payload) => {
    const t = newBackend();
    const response = await postGithub(t, { event, payload });
    expect(response).toEqual({ status: 400, body: { error: expect.stringMatching(/payload/) } });
    await expectNothingStored(t);
  });
});

describe("delivery ids are checked before use", () => {
  test.each([
    ["X-GitHub-Hook-ID", "1:2"],
    ["X-GitHub-Hook-ID", "hook-7"],
    ["X-GitHub-Hook-ID", "1".repeat(21)],
    ["X-GitHub-Delivery", "a:b"],
    ["X-GitHub-Delivery", "72d3162e cc78"],
    ["X-GitHub-Delivery", "x".repeat(65)],
    ["X-GitHub-Delivery", "72d3162e/../cc78"],
  ])("GitHub: %s %j is 400 naming the header", async (header, value) => {
    const t = newBackend();
    const response = await postGithub(t, { event: "ping", payload: { zen: "Keep it logically awesome." }, headers: { [header]: value } });
    expect(response).toEqual({ status: 400, body: { error: expect.stringContaining(header) } });
    await expectNothingStored(t);
  });

  test("GitHub: the longest ids the rule allows (20 digits, 64 characters) are accepted", async () => {
    const t = newBackend();
    const response = await postGithub(t, {
      event: "ping",
      payload: { zen: "Speak like a human." },
      hookId: "9".repeat(20),
      guid: `${"a1-".repeat(21)}z`,
    });
    expect(response).toEqual({ status: 200, body: { status: "accepted", delivery: expect.any(String) } });
  });

  test("hook 1:2 with delivery 3, and hook 1 with delivery 2:3, cannot share a key: both are refused", async () => {
    const t = newBackend();
    const first = await postGithub(t, { event: "ping", payload: { zen: "a" }, hookId: "1:2", guid: "3" });
    const second = await postGithub(t, { event: "ping", payload: { zen: "b" }, hookId: "1", guid: "2:3" });
    expect([first.status, second.status]).toEqual([400, 400]);
    await expectNothingStored(t);
  });

  test("a key's parts are escaped, so that two lists of parts never make the same key", () => {
    expect(deliveryKey("1:2", "3")).not.toBe(deliveryKey("1", "2:3"));
    expect(deliveryKey("292430182", "72d3162e-cc78")).toBe("292430182:72d3162e-cc78");
    const parts = fc.array(fc.string({ unit: fc.constantFrom("1", ":", "%", "3", "A", "a") }), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(parts, parts, (a, b) => {
        expect(deliveryKey(...a) === deliveryKey(...b)).toBe(JSON.stringify(a) === JSON.stringify(b));
      }),
      { numRuns: 2000 },
    );
  });

  test.each([["webhook-id", ":"], ["webhook-id", "%"], ["event_id", ":"]])(
    "a %s of 256 %j characters (escaped to 768 in its key) is accepted, as the rule allows",
    async (field, char) => {
      const t = newBackend();
      const id = char.repeat(256);
      const response =
        field === "webhook-id"
          ? await postEvent(t, { id, event: messageCreated(await newSession(t, "alice"), { role: "user", content: "hi" }) })
          : await postSlack(t, {
              payload: { type: "event_callback", team_id: "T0ACME", event_id: id, event_time: Math.floor(Date.now() / 1000), event: { type: "reaction_added", user: "U01ALICE" } },
            });
      expect(response).toMatchObject({ status: 200, body: { delivery: expect.any(String) } });
      expect((await stored(t)).deliveries.map((row) => row.deliveryKey.length)).toEqual([768]);
    },
  );

  test.each([
    ["webhook-id", "msg 2qJ7"],
    ["webhook-id", "x".repeat(257)],
    ["webhook-id", "msg_2qJ7\u00e9"],
    ["svix-id", "msg\t2qJ7"],
  ])("events: %s %j is 400 naming webhook-id", async (header, value) => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const headers: Record<string, string | null> = header === "svix-id" ? { "webhook-id": null, "svix-id": value } : { "webhook-id": value };
    const response = await postEvent(t, { event: messageCreated(sessionId, { role: "user", content: "hi" }), headers });
    expect(response).toMatchObject({ status: 400, body: { error: expect.stringContaining("webhook-id") } });
    await expectNothingStored(t);
  });

  test.each([["Ev 08T3M1"], ["x".repeat(257)], ["Ev08\u00e9T3"]])("Slack: event_id %j is 400 naming event_id", async (eventId) => {
    const t = newBackend();
    const response = await postSlack(t, {
      payload: {
        type: "event_callback",
        team_id: "T0ACME",
        event_id: eventId,
        event_time: Math.floor(Date.now() / 1000),
        event: { type: "reaction_added", user: "U01ALICE" },
      },
    });
    expect(response).toEqual({ status: 400, body: { error: expect.stringContaining("event_id") } });
    await expectNothingStored(t);
  });
});

describe("a duplicate is the same key AND the same body", () => {
  test("a captured signed ping re-posted under a future delivery GUID no longer swallows the real merge: both kept, the merge applied, one conflict counted", async () => {
    const t = newBackend();
    const order = await runningOrder(t);
    const hookId = "292430182";
    const futureGuid = "5f0e8a10-2b6c-11ef-9a3d-0242ac120002";
    // A ping the attacker captured (any signed body will do), sent first under the GUID the merge will have.
    const claimed = await postGithub(t, { event: "ping", payload: { zen: "Half measures are as bad as nothing at all.", hook_id: 292430182 }, hookId, guid: futureGuid });
    expect(claimed.status).toBe(200);
    const merge = await postGithub(t, { event: "pull_request", payload: mergeOf(order), hookId, guid: futureGuid });
    expect(merge).toEqual({ status: 200, body: { status: "accepted", delivery: expect.any(String) } });
    expect(merge.body.delivery).not.toBe(claimed.body.delivery);
    await settle(t);

    expect(await orderOf(t, order)).toMatchObject({
      status: "succeeded",
      links: [
        { kind: "pr", value: "https://github.com/acme/api/pull/9" },
        { kind: "commit", value: MERGE_SHA },
      ],
    });
    const { deliveries } = await stored(t);
    expect(deliveries.map((row) => [row.event, row.deliveryKey, row.status])).toEqual([
      ["ping", `${hookId}:${futureGuid}`, "processed"],
      ["pull_request", `${hookId}:${futureGuid}`, "processed"],
    ]);
    const inbox = await t.query(internal.ingest.inboxStatus, {});
    expect(inbox.conflicts).toEqual([
      { source: "github", count: 1 },
      { source: "slack", count: 0 },
      { source: "events", count: 0 },
    ]);

    // The real merge redelivered (same key, same body) is its duplicate, and not a conflict.
    const redelivered = await postGithub(t, { event: "pull_request", payload: mergeOf(order), hookId, guid: futureGuid });
    expect(redelivered.body).toEqual({ status: "duplicate", delivery: merge.body.delivery });
    expect((await t.query(internal.ingest.inboxStatus, {})).conflicts[0]).toEqual({ source: "github", count: 1 });
  });

  test("the genuine merge, posted after a copy someone relabelled X-GitHub-Event: star, is no duplicate of it: stored, applied, one conflict counted", async () => {
    const t = newBackend();
    const order = await runningOrder(t);
    const signed = await githubRequest({ event: "pull_request", payload: mergeOf(order), guid: "5f0e8a10-2b6c-11ef-9a3d-0242ac120002" });
    // Whoever holds the signed request (a second hook with the same secret, a request answered 503) posts it first, relabelled.
    const relabelled = await resend(t, signed, { "X-GitHub-Event": "star" });
    expect(relabelled).toEqual({ status: 200, body: { status: "ignored", delivery: expect.any(String), reason: expect.stringContaining("star") } });

    const genuine = await resend(t, signed, {});
    await settle(t);
    expect(genuine).toEqual({ status: 200, body: { status: "accepted", delivery: expect.any(String) } });
    expect((await orderOf(t, order)).status).toBe("succeeded");
    const { deliveries } = await stored(t);
    expect(deliveries.map((row) => [row.event, row.status])).toEqual([
      ["star", "ignored"],
      ["pull_request", "processed"],
    ]);
    expect((await t.query(internal.ingest.inboxStatus, {})).conflicts[0]).toEqual({ source: "github", count: 1 });
    // GitHub's redelivery of the genuine request is its duplicate.
    expect(await resend(t, signed, {})).toEqual({ status: 200, body: { status: "duplicate", delivery: genuine.body.delivery } });
  });
});

/** Counts the bodies the HTTP actions upload to file storage, from the backend's side of the call. */
function countStorageUploads() {
  const convex = (globalThis as unknown as { Convex: object }).Convex;
  const descriptor = Object.getOwnPropertyDescriptor(convex, "jsSyscall")!;
  let uploads = 0;
  Object.defineProperty(convex, "jsSyscall", {
    configurable: true,
    get() {
      const syscall = descriptor.get!.call(convex) as (op: string, args: unknown) => Promise<unknown>;
      return async (op: string, args: unknown) => {
        if (op === "storage/storeBlob") uploads += 1;
        return await syscall(op, args);
      };
    },
  });
  return {
    get uploads() {
      return uploads;
    },
    restore: () => Object.defineProperty(convex, "jsSyscall", descriptor),
  };
}

describe("receipt", () => {
  test("a small delivery and its redelivery upload nothing to file storage: the body is kept as text, the copy answered duplicate", async () => {
    const t = newBackend();
    const counter = countStorageUploads();
    try {
      const delivery = { event: "ping", payload: { zen: "Approachable is better than simple." }, guid: "0d9e8f7a-2b6c-11ef-9a3d-0242ac120002" };
      const first = await postGithub(t, delivery);
      const again = await postGithub(t, delivery);
      expect(again.body).toEqual({ status: "duplicate", delivery: first.body.delivery });
      expect(counter.uploads).toBe(0);
    } finally {
      counter.restore();
    }
  });

  test("when the delivery cannot be recorded, the sender gets JSON 503 with Retry-After, and no body is left in storage", async () => {
    // A transaction that may write one document cannot record a delivery (row, counter, scheduled run).
    const t = newBackend({ documentsWritten: 1 });
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const response = await t.fetch("/webhooks/github", await githubRequest({ event: "ping", payload: { zen: "Mind your words." } }));
    expect(response.status).toBe(503);
    // Operators see why in the deployment's logs.
    expect(logged).toHaveBeenCalledWith(expect.stringContaining("could not be recorded"), expect.anything());
    logged.mockRestore();
    expect(Number(response.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(await response.json()).toEqual({ error: expect.stringMatching(/could not be recorded/) });
    await expectNothingStored(t);
  });

  test("a body that fails while it is read (the sender went away) is 400, JSON, and nothing is stored", async () => {
    const t = newBackend();
    const signed = await githubRequest({ event: "ping", payload: { zen: "Design for failure." } });
    const utf8 = new TextEncoder();
    const breaking = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(utf8.encode('{"zen": "Design'));
        controller.error(new TypeError("the connection was reset"));
      },
    });
    const response = await t.fetch("/webhooks/github", { ...signed, body: breaking, duplex: "half" } as RequestInit);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: expect.stringMatching(/could not be read/) });
    await expectNothingStored(t);
  });

  test("an ignored delivery's reason is answered and stored within 2,000 characters, whatever the sender's ref", async () => {
    const t = newBackend();
    const ref = `refs/heads/${"x".repeat(5000)}`;
    const response = await postGithub(t, { event: "push", payload: { ref, deleted: true, repository: { full_name: "acme/api" }, commits: [] } });
    expect(response).toMatchObject({ status: 200, body: { status: "ignored" } });
    const reason = response.body.reason as string;
    expect(reason).toMatch(/^The push deletes refs\/heads\/x+…$/);
    expect(reason.length).toBeLessThanOrEqual(2000);
    const [row] = (await stored(t)).deliveries;
    expect(row.ignoredReason).toBe(reason);
  });

  test("without WEBHOOK_MAX_BODY_BYTES, a body one byte over 8 MiB is 413, and nothing is stored", async () => {
    const t = newBackend();
    const shape = (zen: string) => JSON.stringify({ zen });
    const zen = "z".repeat(8 * 1024 * 1024 + 1 - shape("").length);
    const response = await postGithub(t, { event: "ping", payload: { zen } });
    expect(response).toEqual({ status: 413, body: { error: expect.stringContaining("WEBHOOK_MAX_BODY_BYTES") } });
    await expectNothingStored(t);
  });
});
