import { beforeEach, expect, vi } from "vitest";
import type { Doc, Id } from "../../../convex/_generated/dataModel";
import type { Backend } from "../backend";

/** What the inbox holds: every delivery row, oldest first, every kept body's document, and every blob in file storage. */
export async function stored(t: Backend) {
  return await t.run(async (ctx) => ({
    deliveries: await ctx.db.query("webhook_deliveries").withIndex("by_receivedAt").collect(),
    bodies: await ctx.db.query("delivery_bodies").collect(),
    blobs: await ctx.db.system.query("_storage").collect(),
  }));
}

/** A refused request leaves the inbox as it was: no delivery row, no body, no blob. */
export async function expectNothingStored(t: Backend) {
  expect(await stored(t)).toEqual({ deliveries: [], bodies: [], blobs: [] });
}

/** One delivery row, by the id an endpoint answered with. */
export async function deliveryRow(t: Backend, deliveryId: unknown): Promise<Doc<"webhook_deliveries">> {
  const row = await t.run(async (ctx) => await ctx.db.get("webhook_deliveries", deliveryId as Id<"webhook_deliveries">));
  if (row === null) {
    throw new Error(`No delivery ${String(deliveryId)}.`);
  }
  return row;
}

/** The document keeping a delivery's body, if any. */
async function bodyDocumentOf(t: Backend, deliveryId: unknown) {
  return await t.run(
    async (ctx) =>
      await ctx.db
        .query("delivery_bodies")
        .withIndex("by_deliveryId", (q) => q.eq("deliveryId", deliveryId as Id<"webhook_deliveries">))
        .unique(),
  );
}

/** The raw bytes kept for a delivery: its body's text, or its file. */
export async function storedBody(t: Backend, deliveryId: unknown): Promise<number[]> {
  return Array.from(new Uint8Array(await bodyBytes(t, deliveryId)));
}

async function bodyBytes(t: Backend, deliveryId: unknown): Promise<ArrayBuffer> {
  const row = await deliveryRow(t, deliveryId);
  const kept = await bodyDocumentOf(t, deliveryId);
  if (kept?.text !== undefined) {
    return new TextEncoder().encode(kept.text).buffer;
  }
  const file = row.body ?? kept?.file;
  return await t.run(async (ctx) => {
    const blob = file === undefined ? null : await ctx.storage.get(file);
    if (blob === null) {
      throw new Error(`Delivery ${String(deliveryId)} has no stored body.`);
    }
    return await blob.arrayBuffer();
  });
}

/** Replaces a delivery's kept body with other bytes (or removes it), as if storage had changed under it; returns the original. */
export async function replaceBody(t: Backend, deliveryId: unknown, bytes: string | null): Promise<ArrayBuffer> {
  const original = await bodyBytes(t, deliveryId);
  await removeBody(t, deliveryId);
  if (bytes !== null) {
    await restoreBody(t, deliveryId, new TextEncoder().encode(bytes).buffer);
  }
  return original;
}

/** Removes a delivery's body, keeping its document's other fields (its first run). */
async function removeBody(t: Backend, deliveryId: unknown) {
  const row = await deliveryRow(t, deliveryId);
  const kept = await bodyDocumentOf(t, deliveryId);
  await t.run(async (ctx) => {
    const file = row.body ?? kept?.file;
    if (file !== undefined) {
      await ctx.storage.delete(file);
    }
    if (kept !== null) {
      await ctx.db.patch("delivery_bodies", kept._id, { text: undefined, file: undefined });
    }
  });
}

/** Puts a delivery's original body back (after replaceBody), where the delivery keeps it: as text, or as a file. */
export async function restoreBody(t: Backend, deliveryId: unknown, bytes: ArrayBuffer) {
  const row = await deliveryRow(t, deliveryId);
  const kept = await bodyDocumentOf(t, deliveryId);
  await t.run(async (ctx) => {
    const body = row.inline
      ? { text: new TextDecoder().decode(bytes) }
      : { file: await ctx.storage.store(new Blob([bytes], { type: "application/json" })) };
    if (row.body !== undefined && "file" in body) {
      await ctx.db.patch("webhook_deliveries", row._id, { body: body.file });
    } else if (kept !== null) {
      await ctx.db.patch("delivery_bodies", kept._id, body);
    } else {
      await ctx.db.insert("delivery_bodies", { deliveryId: row._id, ...body });
    }
  });
}

/**
 * The inbox's two roads, for tests that run on both: a body kept as text
 * and applied by a scheduled mutation (the default for bodies up to 64 KiB),
 * and one in file storage processed by an action (every body, with
 * WEBHOOK_INLINE_BODY_BYTES lowered to 1).
 */
export const BODY_PATHS = [
  { road: "a body kept as text, applied by a mutation", inlineBodyBytes: undefined },
  { road: "a body in file storage, processed by an action", inlineBodyBytes: "1" },
] as const;

/** Before each test of the describe: the deployment set for `road`. */
export function onBodyPath({ inlineBodyBytes }: (typeof BODY_PATHS)[number]) {
  beforeEach(() => {
    if (inlineBodyBytes !== undefined) {
      vi.stubEnv("WEBHOOK_INLINE_BODY_BYTES", inlineBodyBytes);
    }
  });
}

/** The scheduled functions that process a delivery, on either road. */
export const PROCESSING_RUNS = ["inbox/process:processDelivery", "inbox/process:applyInline"];

/** A delivery's last scheduled processing run: the row's, else the one its body's document names. */
export async function processingRun(t: Backend, deliveryId: unknown): Promise<Id<"_scheduled_functions">> {
  const row = await deliveryRow(t, deliveryId);
  const runId = row.scheduledRunId ?? (await bodyDocumentOf(t, deliveryId))?.firstRun;
  if (runId === undefined) {
    throw new Error(`Delivery ${String(deliveryId)} names no processing run.`);
  }
  return runId;
}

/** How many bodies the inbox keeps: texts in documents, and files. */
export async function keptBodies(t: Backend): Promise<number> {
  const { bodies, blobs } = await stored(t);
  return bodies.filter((body) => body.text !== undefined).length + blobs.length;
}

/** Every kept body: its delivery and its size in bytes, as text or as a file. */
export async function keptBodiesOf(t: Backend): Promise<{ deliveryId: Id<"webhook_deliveries">; bytes: number }[]> {
  return await t.run(async (ctx) => {
    const kept = [];
    for (const body of await ctx.db.query("delivery_bodies").collect()) {
      const file = body.file === undefined ? null : await ctx.db.system.get("_storage", body.file);
      if (body.text !== undefined || file !== null) {
        kept.push({ deliveryId: body.deliveryId, bytes: body.text !== undefined ? new TextEncoder().encode(body.text).length : file!.size });
      }
    }
    return kept;
  });
}
