import { expect, vi } from "vitest";
import type { Doc, Id } from "../../convex/_generated/dataModel";
import type { Backend } from "./backend";

/** What the inbox holds: every delivery row, oldest first, and every blob in file storage. */
export async function stored(t: Backend) {
  return await t.run(async (ctx) => ({
    deliveries: await ctx.db.query("webhook_deliveries").withIndex("by_receivedAt").collect(),
    blobs: await ctx.db.system.query("_storage").collect(),
  }));
}

/** A refused request leaves the inbox as it was: no delivery row, no blob. */
export async function expectNothingStored(t: Backend) {
  expect(await stored(t)).toEqual({ deliveries: [], blobs: [] });
}

/** One delivery row, by the id an endpoint answered with. */
export async function deliveryRow(t: Backend, deliveryId: unknown): Promise<Doc<"webhook_deliveries">> {
  const row = await t.run(async (ctx) => await ctx.db.get("webhook_deliveries", deliveryId as Id<"webhook_deliveries">));
  if (row === null) {
    throw new Error(`No delivery ${String(deliveryId)}.`);
  }
  return row;
}

/** The raw bytes kept for a delivery. */
export async function storedBody(t: Backend, deliveryId: unknown): Promise<number[]> {
  const { body } = await deliveryRow(t, deliveryId);
  return await t.run(async (ctx) => {
    const blob = await ctx.storage.get(body);
    if (blob === null) {
      throw new Error(`Delivery ${String(deliveryId)} has no stored body.`);
    }
    return Array.from(new Uint8Array(await blob.arrayBuffer()));
  });
}

/** Replaces a stored delivery's body with other bytes (or removes it), as if storage had changed under it; returns the original. */
export async function replaceBody(t: Backend, deliveryId: unknown, bytes: string | null): Promise<ArrayBuffer> {
  const row = await deliveryRow(t, deliveryId);
  return await t.run(async (ctx) => {
    const original = await (await ctx.storage.get(row.body))!.arrayBuffer();
    await ctx.storage.delete(row.body);
    if (bytes !== null) {
      const body = await ctx.storage.store(new Blob([bytes], { type: "application/json" }));
      await ctx.db.patch("webhook_deliveries", row._id, { body });
    }
    return original;
  });
}

/** Puts a delivery's original body back (after replaceBody). */
export async function restoreBody(t: Backend, deliveryId: unknown, bytes: ArrayBuffer) {
  await t.run(async (ctx) => {
    const body = await ctx.storage.store(new Blob([bytes], { type: "application/json" }));
    await ctx.db.patch("webhook_deliveries", deliveryId as Id<"webhook_deliveries">, { body });
  });
}

/**
 * Collects the whole-transaction costs that processing logs (JANGAR_LOG_COST):
 * call before the deliveries, then `take()` after them.
 */
export function deliveryCosts() {
  vi.stubEnv("JANGAR_LOG_COST", "1");
  const lines: string[] = [];
  const log = console.log;
  vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    const line = args.map(String).join(" ");
    if (line.startsWith("cost delivery ")) {
      lines.push(line);
    } else {
      log(...args);
    }
  });
  return {
    take(): { documentsRead: number; documentsWritten: number; bytesRead: number; bytesWritten: number }[] {
      return lines.splice(0).map((line) => JSON.parse(line.slice("cost delivery ".length)));
    },
  };
}
