import { v, type Infer } from "convex/values";
import type { MutationCtx } from "../../_generated/server";
import { EVENTS_SECRET_SETTING, eventSigningKeys } from "../../../src/events/sign";
import { sendEvent } from "../../../src/events/send";
import { eventBody } from "../../../src/events/types";
import { retryPolicy } from "../../../src/retry";
import { EVENTS_URL_SETTING, eventOfRow } from "../../model/events/record";
import type { EventRequest } from "../../model/events/requests";
import { setting } from "../../model/platform/config";
import { destination, type Answer, type OutboxRow, type Prepared } from "../destination";
import { eventsOutbox } from "../registry";
import { outboxRunner } from "../runner";

/*
 * The outbox's events destination (docs/contract.md#events-out-telling-jangars-server-what-happened):
 * each event a Standard Webhooks request to JANGAR_EVENTS_URL, signed with
 * every secret of JANGAR_EVENTS_SECRET, a lane per session. The body is
 * made from the event's row when the row is claimed; its webhook-id is the
 * event's id (the same on every attempt, and the id events:list gives);
 * its webhook-timestamp is each attempt's. The settings are read when
 * sending, so neither is ever in a row.
 */

/** What one attempt sends: the event's id and its body, the exact text signed. */
const vEventCall = v.object({ id: v.string(), body: v.string() });
type Call = Infer<typeof vEventCall>;

const TIMEOUT_MS = 10_000;

async function prepare(ctx: MutationCtx, row: OutboxRow<EventRequest>): Promise<Prepared<Call>> {
  const event = await ctx.db.get("events", row.request.eventId);
  if (event === null) {
    return { gone: "The event was purged (DELIVERY_RETENTION_DAYS) before it could be sent." };
  }
  return { call: { id: event._id, body: eventBody(eventOfRow(event)) }, method: event.type };
}

/**
 * Sends one event with the settings as they are now. Unset settings fail
 * the row (replay it once they are set); a secret that is not one is
 * retried, so that fixing it within the retry period sends the event.
 */
async function send(call: Call): Promise<Answer> {
  const url = setting(EVENTS_URL_SETTING);
  const secret = setting(EVENTS_SECRET_SETTING);
  if (url === undefined || secret === undefined) {
    return { kind: "failed", error: "not_configured: JANGAR_EVENTS_URL or JANGAR_EVENTS_SECRET is not set; set both, then replay the row." };
  }
  const keys = eventSigningKeys(secret);
  if (!keys.ok) {
    return { kind: "retry", error: `bad_secret: ${keys.message}` };
  }
  const answer = await sendEvent({ url, keys: keys.value, timeoutMs: TIMEOUT_MS }, call);
  return answer.kind === "sent" ? { kind: "sent" } : answer;
}

export const events = destination({
  handle: eventsOutbox,
  call: vEventCall,
  // One request at a time per session is the only pace.
  spacingMs: 0,
  // After 10 s, 20 s, 40 s, ... up to an hour between attempts (Retry-After: at most an hour), for 24 hours.
  retry: retryPolicy({ initialMs: 10_000, factor: 2, maxDelayMs: 60 * 60_000, maxAgeMs: 24 * 60 * 60_000 }),
  prepare,
  send,
});

export const { claimNext, recordOutcome, sendNext } = outboxRunner(events);
