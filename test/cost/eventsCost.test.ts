// @vitest-environment node
/**
 * What an event out costs (`npm run bench`; reduced in `npm test`), beside
 * the Slack outbox's figures (test/cost/slackCost.test.ts): the documents the
 * transaction that makes a change reads and writes with the event and
 * without it (the same append by a service, which makes none), and the
 * outbox's claim and record steps that send it, with few and with many
 * unrelated rows (other sessions, their messages, events and sent rows).
 * docs/performance.md holds the figures.
 */
import { afterEach, beforeEach, expect, test, vi } from "vitest";
import { api } from "../../convex/_generated/api";
import { FAKE_JANGAR_SECRET, FAKE_JANGAR_URL, FakeJangar } from "../../fakes/jangar";
import { newBackend, type Backend } from "../helpers/backend";
import { asService, asUser } from "../helpers/callers";
import { settle, withFakeClock } from "../helpers/clock";
import { outboxCosts, reportFlat, seedRows, type StepCost } from "../helpers/bench/outboxCost";
import { newSession } from "../helpers/records";

const SIZES = (process.env.BENCH_SIZES ?? "100,2000").split(",").map(Number);

let jangar: FakeJangar;

withFakeClock();
const costsOf = outboxCosts("events");
beforeEach(() => {
  jangar = new FakeJangar();
  vi.stubGlobal("fetch", jangar.fetch);
  vi.stubEnv("JANGAR_EVENTS_URL", FAKE_JANGAR_URL);
  vi.stubEnv("JANGAR_EVENTS_SECRET", FAKE_JANGAR_SECRET);
});
afterEach(() => {
  expect(jangar.violations).toEqual([]);
});

/** `count` unrelated rows: other users' sessions with a message each, its event, and the event's sent outbox row. */
async function seedUnrelated(t: Backend, count: number) {
  await seedRows(t, "events", count, async (ctx, i, now) => {
    const sessionId = await ctx.db.insert("chat_sessions", { userId: `other-${i}`, title: `Other ${i}`, createdAt: now, updatedAt: now });
    const messageId = await ctx.db.insert("chat_messages", { sessionId, role: "user", content: `message ${i}`, createdAt: now });
    const data = { sessionId, messageId, role: "user", content: `message ${i}`, source: "api" };
    const eventId = await ctx.db.insert("events", { sessionId, type: "chat.message.created", data, occurredAt: now });
    await ctx.db.insert("outbox", {
      destination: "events",
      lane: sessionId,
      ordered: true,
      enqueuedAt: now,
      request: { kind: "event", eventId },
      status: i % 10 === 0 ? "failed" : "sent",
      attempts: 1,
      method: "chat.message.created",
      finishedAt: now,
    });
  });
}

async function measure(unrelated: number): Promise<StepCost[]> {
  const t = newBackend();
  await seedUnrelated(t, unrelated);
  const sessionId = await newSession(t, "alice");
  // The session's lane exists, as it does after its first event.
  await asUser(t, "alice").mutation(api.chatMessages.append, { sessionId, role: "user", content: "first" });
  await settle(t);
  const costs = [
    ...(await costsOf(t, "a user's message, without an event (the same append by a service)", () =>
      asService(t).mutation(api.chatMessages.append, { sessionId, role: "user", content: "Deploy the API" }),
    )),
    ...(await costsOf(t, "a user's message and its event (chatMessages:append)", () =>
      asUser(t, "alice").mutation(api.chatMessages.append, { sessionId, role: "user", content: "Deploy the API" }),
    )),
  ];
  expect(jangar.calls.slice(-2).map((call) => call.event?.type)).toEqual(["chat.message.created", "chat.message.created"]);
  return costs;
}

test(`an event costs as many documents with ${SIZES.join(" as with ")} unrelated rows`, async () => {
  const runs = [];
  for (const size of SIZES) {
    runs.push({ size, costs: await measure(size) });
  }
  reportFlat(runs, { file: "events-cost.md", bytes: "bytesWritten" });
  expect(runs[0].costs.map(([step]) => step)).toEqual([
    "a user's message, without an event (the same append by a service)",
    "a user's message and its event (chatMessages:append)",
    "  sending: claim event",
    "  sending: record event",
  ]);
}, 600_000);
