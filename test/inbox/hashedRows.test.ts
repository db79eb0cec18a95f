import { describe, expect, test } from "vitest";
import { internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { sha256Hex } from "../../src/hmac";
import { newBackend, type Backend } from "../helpers/backend";
import { postGithub, pushOf } from "../helpers/senders/github";
import { withFakeClock, settle } from "../helpers/clock";
import { storedBody } from "../helpers/inbox/deliveries";
import { FEATURE_BRANCH } from "../helpers/inbox/runs";

/*
 * Rows kept before bodies moved out of the delivery row: hashed on receipt,
 * their body in file storage. They are still compared with new deliveries.
 */

withFakeClock();

describe("rows recorded while bodies were hashed on receipt", () => {
  /** Turns a recorded delivery into a row as it was kept before: its body in file storage on the row, with its hash. */
  async function asHashedRow(t: Backend, deliveryId: unknown) {
    const bytes = new Uint8Array(await storedBody(t, deliveryId));
    const bodySha256 = await sha256Hex(bytes);
    await t.run(async (ctx) => {
      const id = deliveryId as Id<"webhook_deliveries">;
      for (const kept of await ctx.db.query("delivery_bodies").withIndex("by_deliveryId", (q) => q.eq("deliveryId", id)).collect()) {
        await ctx.db.delete("delivery_bodies", kept._id);
      }
      const body = await ctx.storage.store(new Blob([bytes], { type: "application/json" }));
      await ctx.db.patch("webhook_deliveries", id, { body, bodySha256, inline: undefined });
    });
  }

  test("a copy of an older row is still its duplicate, and another body under its key still a conflict", async () => {
    const t = newBackend();
    const delivery = { event: "push", payload: pushOf(FEATURE_BRANCH, 1), guid: "0b5a7c1e-2f3d-11ef-9a3d-0242ac120099" };
    const first = await postGithub(t, delivery);
    await settle(t);
    await asHashedRow(t, first.body.delivery);

    expect((await postGithub(t, delivery)).body).toEqual({ status: "duplicate", delivery: first.body.delivery });
    const other = await postGithub(t, { ...delivery, payload: pushOf(FEATURE_BRANCH, 2) });
    expect(other.body).toEqual({ status: "accepted", delivery: expect.any(String) });
    expect((await t.query(internal.ingest.inboxStatus, {})).conflicts).toContainEqual({ source: "github", count: 1 });
  });
});
