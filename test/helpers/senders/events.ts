import { beforeEach, expect, vi } from "vitest";
import { overrideHeaders } from "./headers";
import { events } from "../../../src/sources/events";
import type { Backend } from "../backend";
import { withFakeClock } from "../clock";

/*
 * A Standard Webhooks (Svix) sender for POST /webhooks/events: deliveries
 * signed with the events source's own signer (checked against the scheme's
 * published vector in test/inbox/eventsVector.test.ts), as a chat platform or a workflow
 * runner would sign them.
 */

/** The deployment's EVENTS_WEBHOOK_SECRET in the suite (Svix's form: whsec_ and 24 base64-encoded bytes). */
export const EVENTS_SECRET = "whsec_amFuZ2FyIGV2ZW50cyBydW5uZXIga2V5";

let messages = 0;

/** A message id never sent before, shaped like Svix's. */
function newMessageId(): string {
  return `msg_2qJ7xRk9Lm${String(++messages).padStart(6, "0")}`;
}

/** The body Standard Webhooks senders post: `{ type, timestamp, data }`. */
export type EventEnvelope = { type: string; timestamp?: string; data?: unknown };

export function event(type: string, data: unknown): EventEnvelope {
  return { type, timestamp: new Date().toISOString(), data };
}

export function statusChanged(workOrderId: string, status: string, reason?: string): EventEnvelope {
  return event("work_order.status.changed", reason === undefined ? { workOrderId, status } : { workOrderId, status, reason });
}

export function linkAdded(workOrderId: string, kind: string, value: string): EventEnvelope {
  return event("work_order.link.added", { workOrderId, kind, value });
}

export function messageCreated(
  sessionId: string,
  message: { role: string; content: string; metadata?: unknown },
): EventEnvelope {
  return event("chat.message.created", { sessionId, ...message });
}

export type EventsDelivery = {
  /** The event to send as JSON; or `body`, sent exactly as given. */
  event?: EventEnvelope;
  body?: string;
  /** webhook-id; a fresh one unless given (a retry of the same message keeps its id). */
  id?: string;
  /** webhook-timestamp in Unix seconds; now (the fake clock) unless given. */
  timestamp?: number;
  /** The key the sender signs with; EVENTS_SECRET unless given. */
  secret?: string;
  /** Send the `svix-*` spelling of the three headers instead of `webhook-*`. */
  svixHeaders?: boolean;
  /** Headers to set over the signed ones; null leaves a header out. */
  headers?: Record<string, string | null>;
};

const utf8 = new TextEncoder();

/** The request a sender posts: the body, signed over `id.timestamp.body`, with the three headers. */
export async function eventsRequest(delivery: EventsDelivery): Promise<{ id: string; init: RequestInit }> {
  const id = delivery.id ?? newMessageId();
  const body = delivery.body ?? JSON.stringify(delivery.event);
  const timestamp = delivery.timestamp ?? Math.floor(Date.now() / 1000);
  const secret = delivery.secret ?? EVENTS_SECRET;
  const signed = await events.sign(secret, { body: utf8.encode(body), id, timestamp });
  const headers: Record<string, string> = { "content-type": "application/json", "user-agent": "Svix-Webhooks/1.99.1" };
  for (const [name, value] of Object.entries(signed)) {
    headers[delivery.svixHeaders ? name.replace(/^webhook-/, "svix-") : name] = value;
  }
  overrideHeaders(headers, delivery.headers);
  return { id, init: { method: "POST", headers, body } };
}

/** What the sender sees: the status and JSON body of the answer, and the webhook-id it sent. */
export async function postEvent(t: Backend, delivery: EventsDelivery) {
  const { id, init } = await eventsRequest(delivery);
  const response = await t.fetch("/webhooks/events", init);
  return { id, status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The time the specs of POST /webhooks/events run at. */
export const EVENTS_NOW = new Date("2026-03-02T09:00:00.000Z");

/** For a spec of POST /webhooks/events: before each test, a fake clock at EVENTS_NOW and EVENTS_SECRET configured. */
export function onEventsEndpoint() {
  withFakeClock();
  beforeEach(() => {
    vi.setSystemTime(EVENTS_NOW);
    vi.stubEnv("EVENTS_WEBHOOK_SECRET", EVENTS_SECRET);
  });
}

/** The answer to a delivery the inbox recorded to process. */
export const accepted = { status: "accepted", delivery: expect.any(String) };
