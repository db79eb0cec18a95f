import { v, type Infer } from "convex/values";
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../_generated/server";
import { bytesOfBase64, hexOf, sha256Hex } from "../../../src/hmac";

/*
 * A delivery's raw body (docs/contract.md#3-webhook-routes): in a document of
 * its own, never in the delivery row, so that processing a delivery never
 * rewrites it. A small body is the document's text (the bytes received,
 * decoded strictly, so equal texts are equal bytes); a large one is a file,
 * whose SHA-256 file storage keeps. Rows recorded before this kept their
 * body in file storage themselves (`body`), with its hash (`bodySha256`).
 */

/** A body as the receiving endpoint hands it over: its text, or the file it stored. */
export const vIncomingBody = v.union(v.object({ text: v.string() }), v.object({ file: v.id("_storage") }));
export type IncomingBody = Infer<typeof vIncomingBody>;

/** Keeps a new delivery's body, with the processing run scheduled as it was recorded, if any. */
export async function keepBody(
  ctx: MutationCtx,
  deliveryId: Id<"webhook_deliveries">,
  body: IncomingBody,
  firstRun?: Id<"_scheduled_functions">,
) {
  await ctx.db.insert("delivery_bodies", { deliveryId, ...body, firstRun });
}

/** The document holding a delivery's body; null for a row recorded before bodies had one, or whose body was dropped. */
export async function bodyDocument(ctx: QueryCtx, deliveryId: Id<"webhook_deliveries">) {
  return await ctx.db
    .query("delivery_bodies")
    .withIndex("by_deliveryId", (q) => q.eq("deliveryId", deliveryId))
    .unique();
}

/** Where a recorded delivery's body is: its text, its file, or nowhere (gone). */
export async function keptBody(ctx: QueryCtx, delivery: Doc<"webhook_deliveries">): Promise<IncomingBody | null> {
  if (delivery.body !== undefined) {
    return { file: delivery.body };
  }
  const kept = await bodyDocument(ctx, delivery._id);
  if (kept?.text !== undefined) {
    return { text: kept.text };
  }
  return kept?.file === undefined ? null : { file: kept.file };
}

/** A body's SHA-256 in hex: a text's hashed here, a file's as file storage keeps it. Null for a file that is gone. */
async function sha256Of(ctx: QueryCtx, body: IncomingBody): Promise<string | null> {
  if ("text" in body) {
    return await sha256Hex(new TextEncoder().encode(body.text));
  }
  const stored = await ctx.db.system.get("_storage", body.file);
  const digest = stored === null ? null : bytesOfBase64(stored.sha256);
  return digest === null ? null : hexOf(digest);
}

/**
 * Whether `delivery` was recorded with the body `incoming` of `bodyBytes`
 * bytes: texts compared byte for byte, files by file storage's SHA-256, rows
 * from before by the hash they keep. Nothing is hashed unless a row with the
 * same key, event, content type and length exists. A body dropped by
 * retention proves nothing: the copy is then a delivery of its own.
 */
export async function sameBody(
  ctx: QueryCtx,
  delivery: Doc<"webhook_deliveries">,
  incoming: IncomingBody,
  bodyBytes: number,
): Promise<boolean> {
  if (delivery.bodyBytes !== bodyBytes) {
    return false;
  }
  if (delivery.bodySha256 !== undefined) {
    return (await sha256Of(ctx, incoming)) === delivery.bodySha256;
  }
  const kept = await keptBody(ctx, delivery);
  if (kept === null) {
    return false;
  }
  if ("text" in kept && "text" in incoming) {
    return kept.text === incoming.text;
  }
  const [keptDigest, incomingDigest] = [await sha256Of(ctx, kept), await sha256Of(ctx, incoming)];
  return keptDigest !== null && keptDigest === incomingDigest;
}

/** Deletes a file that may be gone already. */
async function deleteFile(ctx: MutationCtx, file: Id<"_storage"> | undefined) {
  if (file !== undefined && (await ctx.db.system.get("_storage", file)) !== null) {
    await ctx.storage.delete(file);
  }
}

/** Deletes a body's document and its file, if it has one. */
export async function dropBody(ctx: MutationCtx, kept: Doc<"delivery_bodies">) {
  await ctx.db.delete("delivery_bodies", kept._id);
  await deleteFile(ctx, kept.file);
}

/** Deletes a delivery's body: its document and file, or the file of a row from before. */
export async function deleteBody(ctx: MutationCtx, delivery: Doc<"webhook_deliveries">) {
  const kept = await bodyDocument(ctx, delivery._id);
  if (kept !== null) {
    await dropBody(ctx, kept);
  }
  await deleteFile(ctx, delivery.body);
}
