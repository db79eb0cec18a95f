import { v, type Infer } from "convex/values";
import { beforeEach } from "vitest";
import { destination, outboxHandle, type Answer, type Prepared } from "../../../convex/outbox/destination";
import { enqueue, type NewRow } from "../../../convex/outbox/enqueue";
import { outboxRunner } from "../../../convex/outbox/runner";
import { retryPolicy } from "../../../src/retry";
import { newBackend, type Backend } from "../backend";
import { withFakeClock } from "../clock";

/*
 * The outbox's engine, the same for every destination, is specified
 * (test/outbox/) through a destination made here: one adapter (what to send for a row, how to read
 * the answer) and its runner functions as a module of its own, as
 * docs/architecture.md's "Adding a destination" describes. Its service is a
 * fake that records each request and answers as told.
 */

export type Note = { kind: "note"; text: string };
export type ServiceCall = { lane: string; text: string; uncertain: boolean; at: number; answer: Answer };

/** The outside service: answers `sent` unless told otherwise, and records every request with the time it came. */
export class FakeService {
  calls: ServiceCall[] = [];
  inFlight = new Map<string, number>();
  mostInFlight = 0;
  private next: Answer[] = [];

  /** Forgets every request and scripted answer (before each test). */
  reset() {
    this.calls = [];
    this.inFlight.clear();
    this.mostInFlight = 0;
    this.next = [];
  }

  answerNext(...answers: Answer[]) {
    this.next.push(...answers);
  }

  async send(call: { lane: string; text: string; uncertain: boolean }): Promise<Answer> {
    this.inFlight.set(call.lane, (this.inFlight.get(call.lane) ?? 0) + 1);
    this.mostInFlight = Math.max(this.mostInFlight, this.inFlight.get(call.lane)!);
    await Promise.resolve();
    const answer = this.next.shift() ?? { kind: "sent", result: `#${this.calls.length + 1}` };
    this.calls.push({ ...call, at: Date.now(), answer });
    this.inFlight.set(call.lane, this.inFlight.get(call.lane)! - 1);
    return answer;
  }

  textsOf(lane: string) {
    return this.calls.filter((call) => call.lane === lane).map(({ text }) => text);
  }
}

/** The probe's outside service, reset before each test (withProbe). */
export const service = new FakeService();

// The registration: a name and the shape of its requests.
export const probeOutbox = outboxHandle("probe", v.object({ kind: v.literal("note"), text: v.string() }));

// The adapter: a note whose text is "gone" stands for a fact deleted before it was sent.
const vProbeCall = v.object({ lane: v.string(), text: v.string(), uncertain: v.boolean() });
export const probe = destination({
  handle: probeOutbox,
  call: vProbeCall,
  spacingMs: 500,
  retry: retryPolicy({ initialMs: 2_000, factor: 3, maxDelayMs: 60_000, maxAttempts: 4 }),
  prepare: async (_ctx, row): Promise<Prepared<Infer<typeof vProbeCall>>> =>
    row.request.text === "gone"
      ? { gone: "The note no longer exists." }
      : { call: { lane: row.lane, text: row.request.text, uncertain: row.uncertain === true }, method: "POST /notes" },
  send: async (call) => await service.send(call),
});

export function backend(): Backend {
  return newBackend(true, { "../../convex/outbox/destinations/probe.ts": async () => outboxRunner(probe) });
}

/** Each test of the file starts with fake time and a service that has seen nothing. */
export function withProbe() {
  withFakeClock();
  beforeEach(() => service.reset());
}

export async function queue(t: Backend, lane: string, ...rows: (string | NewRow<Note>)[]) {
  return await t.run(
    async (ctx) => await enqueue(ctx, probeOutbox, lane, rows.map((row) => (typeof row === "string" ? { request: { kind: "note" as const, text: row } } : row))),
  );
}

export const unordered = (text: string): NewRow<Note> => ({ request: { kind: "note", text }, unordered: true });

export const gaps = (calls: ServiceCall[]) => calls.slice(1).map(({ at }, i) => at - calls[i].at);
