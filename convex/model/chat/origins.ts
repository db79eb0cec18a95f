import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx } from "../../_generated/server";
import { appendMessage, type NewMessage } from "./messages";

async function findOrigin(ctx: MutationCtx, externalId: string) {
  return await ctx.db
    .query("chat_message_origins")
    .withIndex("by_externalId", (q) => q.eq("externalId", externalId))
    .unique();
}

/**
 * Appends a message a sender delivered, once: a message already appended
 * under its external id (or removed since) is not appended again.
 */
export async function appendFromSender(
  ctx: MutationCtx,
  session: Doc<"chat_sessions">,
  externalId: string,
  message: NewMessage,
): Promise<Id<"chat_messages"> | null> {
  if ((await findOrigin(ctx, externalId)) !== null) {
    return null;
  }
  const messageId = await appendMessage(ctx, session, message);
  await ctx.db.insert("chat_message_origins", { externalId, messageId });
  return messageId;
}

/**
 * The message still mirrored under this external id, if any: what a
 * sender's edit or deletion changes. A post of ours is not a mirror (the
 * chat message is the original), so deleting one part of a reply in Slack
 * never removes or rewrites the assistant's message.
 */
export async function mirroredMessage(ctx: MutationCtx, externalId: string) {
  const origin = await findOrigin(ctx, externalId);
  if (origin === null || origin.removedAt !== undefined || origin.outbound === true) {
    return null;
  }
  const message = await ctx.db.get("chat_messages", origin.messageId);
  return message === null ? null : { origin, message };
}

/**
 * Records a message of ours that a sender now holds under `externalId` (a
 * reply Slack posted), so that the sender's echo of it is not appended again.
 */
export async function recordOrigin(ctx: MutationCtx, externalId: string, messageId: Id<"chat_messages">) {
  if ((await findOrigin(ctx, externalId)) === null) {
    await ctx.db.insert("chat_message_origins", { externalId, messageId, outbound: true });
  }
}
