import { describe, expect, test, vi } from "vitest";
import { newBackend } from "../helpers/backend";
import { githubRequest, postGithub } from "../helpers/senders/github";
import { withEverySenderConfigured } from "../helpers/senders/all";
import { stored, expectNothingStored } from "../helpers/inbox/deliveries";

/*
 * The receiving side's trust boundary
 * (docs/contract.md#trust-boundary): receiving a delivery leaves nothing
 * behind when it fails, keeps small bodies out of file storage, and bounds
 * what a sender's text makes the inbox store.
 */

withEverySenderConfigured();

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
