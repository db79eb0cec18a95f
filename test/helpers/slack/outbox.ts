import { expect } from "vitest";
import { api } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import { slack as slackDestination } from "../../../convex/outbox/destinations/slack";
import { delayRange } from "../../../src/retry";
import type { Backend } from "../backend";
import { asService } from "../callers";
import { OUTBOX_ITERATIONS, settle, withFakeClock } from "../clock";
import { ALICE, BOT_USER, TEAM, postSlackEvent, slackSessionsOf, withFakeSlack } from "../senders/slack";

/*
 * Sessions bound to Slack threads, and the outbox rows that carry their
 * replies and cards to Slack, for the specs of the Slack outbox.
 */

/** For each test: the fake clock on the morning of the fixtures' conversation, and Slack's fake (`withFakeSlack`). */
export function withSlackOutbox() {
  withFakeClock({ now: new Date("2025-05-14T09:00:00Z") });
  return withFakeSlack();
}

export const CHANNEL = "C0AB1";
let threads = 0;

/** Alice mentions the bot in CHANNEL (or another channel): a session bound to a new thread. */
export async function slackThread(t: Backend, channel = CHANNEL) {
  threads += 1;
  const now = Math.floor(Date.now() / 1000);
  const ts = `${now}.${String(threads).padStart(6, "0")}`;
  const answer = await postSlackEvent(t, {
    type: "event_callback",
    team_id: TEAM,
    event_id: `Ev0THREAD${threads}`,
    event_time: now,
    event: { type: "app_mention", user: ALICE, text: `<@${BOT_USER}> the login page 500s`, ts, channel },
  });
  expect(answer.status).toBe(200);
  await settle(t, OUTBOX_ITERATIONS);
  const sessions = await slackSessionsOf(t, ALICE);
  return { sessionId: sessions[0]._id, channel, threadTs: ts };
}

export async function reply(t: Backend, sessionId: Id<"chat_sessions">, content: string, role = "assistant") {
  return await asService(t).mutation(api.chatMessages.append, { sessionId, role, content });
}

/** The shortest and longest wait of Slack's retry policy after `attemptsMade` failed attempts (jitter takes a random share off). */
export const waitAfter = (attemptsMade: number) => delayRange(slackDestination.retry, attemptsMade);
