import { expect } from "vitest";
import { api, internal } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import aliceMentionsBot from "../../../fixtures/slack/01-alice-mentions-bot.json";
import { domainTables } from "../assertions";
import type { Backend } from "../backend";
import { asService } from "../callers";
import { settle, withFakeClock } from "../clock";
import { stored } from "../inbox/deliveries";
import { newWorkOrder } from "../records";
import { ALICE, BOB, TEAM, postSlackEvent, slackSessionsOf, withFakeSlack } from "../senders/slack";

/*
 * Alice's Slack thread with a work order in it, for the specs of the
 * card's buttons and the slash command: the order's card as Slack shows
 * it, and what a person's actions change.
 */

export const CAROL = "U03CAROL";
export const CHANNEL = aliceMentionsBot.event.channel;
export const THREAD_TS = aliceMentionsBot.event.ts;
export const slackUser = (user: string) => `slack:${TEAM}:${user}`;

/** An order Bob requested, in the given session (Alice's). */
export async function bobsOrderIn(t: Backend, sessionId: Id<"chat_sessions">) {
  return await asService(t).mutation(api.workOrders.create, {
    sessionId,
    workflowType: "codex-implement",
    prompt: "Bob's fix",
    title: "Bob's fix",
    requestedBy: slackUser(BOB),
  });
}

/** Alice's thread, bound to her session, with one work order of hers in it (and its card posted). */
export async function aliceThreadWithOrder(t: Backend, fields: Parameters<typeof newWorkOrder>[2] = {}) {
  expect((await postSlackEvent(t, aliceMentionsBot)).status).toBe(200);
  await settle(t);
  const [session] = await slackSessionsOf(t, ALICE);
  const workOrderId = await newWorkOrder(t, session._id, fields);
  await settle(t);
  return { sessionId: session._id, workOrderId };
}

export async function setStatus(t: Backend, workOrderId: Id<"work_orders">, ...statuses: ("accepted" | "running" | "succeeded" | "failed" | "canceled")[]) {
  for (const status of statuses) {
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status });
  }
  await settle(t);
}

/**
 * For each test: the fake clock on the morning of the fixtures'
 * conversation, and Slack's fake (`withFakeSlack`); and the card of an
 * order in Alice's thread as that fake shows it.
 */
export function withSlackCards() {
  withFakeClock({ now: new Date("2025-05-14T09:00:00Z") });
  const fake = withFakeSlack();

  /** The card of an order as Slack shows it: the one message in the thread whose blocks say they show the order. */
  function cardOf(workOrderId: string) {
    const cards = fake.slack.thread(CHANNEL, THREAD_TS).filter((message) => JSON.stringify(message.blocks ?? []).includes(`Work order \`${workOrderId}\``));
    expect(cards).toHaveLength(1);
    return cards[0];
  }

  /** The buttons a card shows, as `action_id=value`. */
  function buttonsOf(workOrderId: string): string[] {
    const blocks = (cardOf(workOrderId).blocks ?? []) as { type: string; elements?: { action_id?: string; value?: string }[] }[];
    return blocks.flatMap((block) => (block.type === "actions" ? (block.elements ?? []) : [])).map((button) => `${button.action_id}=${button.value}`);
  }

  return { fake, cardOf, buttonsOf };
}

/** What a person's actions change besides the outbox (which carries the messages they are told). */
export async function ordersAndHistory(t: Backend) {
  const { outbox: _outbox, outbox_lanes: _lanes, outbox_tallies: _counts, ...tables } = await domainTables(t);
  return tables;
}

/** An operator replays a delivery (`ingest:replay`) and it runs to the end; returns the delivery's row and its attempt history. */
export async function replayed(t: Backend, deliveryId: string) {
  const id = deliveryId as Id<"webhook_deliveries">;
  await t.mutation(internal.ingest.replay, { deliveryId: id });
  await settle(t);
  const delivery = (await stored(t)).deliveries.find((row) => row._id === id)!;
  return { delivery, attempts: (await t.query(internal.ingest.attempts, { deliveryId: id })).map((attempt) => attempt.outcome) };
}

export async function sessionOrders(t: Backend, sessionId: Id<"chat_sessions">) {
  const page = await asService(t).query(api.workOrders.listBySession, { sessionId, paginationOpts: { numItems: 50, cursor: null } });
  return page.page;
}
