import { DELIVERY_TALLY_SHARDS } from "../../../convex/model/inbox/deliveries";
import type { Id } from "../../../convex/_generated/dataModel";
import type { Backend } from "../backend";

const HOUR = 60 * 60 * 1000;

/** Another user's order, number `i`, last changed at `now`. */
export function otherOrder(sessionId: Id<"chat_sessions">, requestedBy: string, i: number, now: number, status: "running" | "succeeded" = "running") {
  return { sessionId, workflowType: "codex-implement", prompt: `Task ${i}`, title: `Task ${i}`, status, requestedBy, createdAt: now, updatedAt: now };
}

/**
 * `count` unrelated rows in every table, as other users' and other orders'
 * data, last touched `ageMs` ago; and the inbox's counter shards, as a
 * deployment that has received deliveries has them.
 */
export async function seedUnrelated(t: Backend, count: number, ageMs = HOUR) {
  await t.run(async (ctx) => {
    for (const source of ["github", "slack", "events"] as const) {
      for (let shard = 0; shard < DELIVERY_TALLY_SHARDS; shard += 1) {
        await ctx.db.insert("delivery_tallies", { source, shard, accepted: 1000, processed: 1000, ignored: 1000, failed: 1000 });
      }
    }
  });
  const body = await t.run(async (ctx) => await ctx.storage.store(new Blob(["{}"])));
  for (let start = 0; start < count; start += 500) {
    await t.run(async (ctx) => {
      const now = Date.now() - ageMs;
      for (let i = start; i < Math.min(count, start + 500); i += 1) {
        const sessionId = await ctx.db.insert("chat_sessions", { userId: `other-${i}`, title: `Other ${i}`, createdAt: now, updatedAt: now });
        const messageId = await ctx.db.insert("chat_messages", { sessionId, role: "user", content: `message ${i}`, createdAt: now });
        const workOrderId = await ctx.db.insert("work_orders", otherOrder(sessionId, `other-${i}`, i, now, i % 2 === 0 ? "running" : "succeeded"));
        await ctx.db.insert("work_order_args", { workOrderId, name: "attempt", value: i });
        await ctx.db.insert("work_order_targets", { workOrderId, targetRepo: i % 3 === 0 ? "acme/api" : `acme/other-${i}`, targetBranch: `task-${i}` });
        await ctx.db.insert("work_order_links", { workOrderId, kind: "commit", value: (i + 1).toString(16).padStart(40, "e") });
        await ctx.db.insert("work_order_status_changes", { workOrderId, from: null, to: "running", source: "api", actor: "service:other", changedAt: now });
        await ctx.db.insert("webhook_deliveries", {
          source: "github",
          deliveryKey: `other-${i}`,
          event: "push",
          contentType: "application/json",
          body,
          bodyBytes: 2,
          receivedAt: now,
          status: "processed",
          attempts: 1,
        });
        await ctx.db.insert("chat_message_origins", { externalId: `slack:T0OTHER:C0OTHER:${i}.0001`, messageId });
        await ctx.db.insert("slack_threads", { team: "T0OTHER", channel: "C0OTHER", threadTs: `${i}.0001`, sessionId });
      }
    });
  }
}


/**
 * `count` unrelated rows on the posting side: sent (and some failed) outbox
 * rows in the lanes the operations post to (Slack channel C0AB1 of team
 * T0ACME, GitHub installation 42), other orders' cards in that channel, and
 * other sessions bound to other threads of the same repository.
 */
export async function seedUnrelatedOutbox(t: Backend, count: number) {
  for (let start = 0; start < count; start += 500) {
    await t.run(async (ctx) => {
      const now = Date.now() - HOUR;
      for (let i = start; i < Math.min(count, start + 500); i += 1) {
        const sessionId = await ctx.db.insert("chat_sessions", { userId: `poster-${i}`, title: `Poster ${i}`, createdAt: now, updatedAt: now });
        const messageId = await ctx.db.insert("chat_messages", { sessionId, role: "assistant", content: `reply ${i}`, createdAt: now });
        const status = i % 10 === 0 ? "failed" : "sent";
        const thread = { team: "T0ACME", channel: "C0AB1", threadTs: `1700000000.${String(i).padStart(6, "0")}` };
        await ctx.db.insert("outbox", {
          destination: "slack",
          lane: "T0ACME:C0AB1",
          ordered: true,
          enqueuedAt: now,
          request: { kind: "reply", thread, messageId, part: 1, parts: 1, text: `reply ${i}` },
          status,
          attempts: 1,
          method: "chat.postMessage",
          result: `1700000002.${String(i).padStart(6, "0")}`,
          finishedAt: now,
        });
        const number = 1000 + i;
        await ctx.db.insert("github_threads", { repository: "acme/api", number, sessionId, lastCommentAt: now });
        await ctx.db.insert("outbox", {
          destination: "github",
          lane: "installation:42",
          ordered: true,
          enqueuedAt: now,
          request: { kind: "comment", installationId: 42, thread: { repository: "acme/api", number }, messageId, part: 1, parts: 1, text: `reply ${i}` },
          status,
          attempts: 1,
          method: "comment",
          result: String(3_000_000_000 + i),
          finishedAt: now,
        });
        const workOrderId = await ctx.db.insert("work_orders", otherOrder(sessionId, `poster-${i}`, i, now));
        await ctx.db.insert("slack_cards", { workOrderId, ...thread, ts: `1700000001.${String(i).padStart(6, "0")}` });
      }
    });
  }
}
