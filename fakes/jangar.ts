/**
 * A fake of Jangar's server as events out reach it (docs/contract.md#events-out-telling-jangars-server-what-happened):
 * `POST <baseUrl>` with a Standard Webhooks request. Every request is
 * checked with svix's own `Webhook.verify` (the reference library) under
 * each secret it is given, and read as an event of the service client's
 * types; one that does not verify, or whose body is not an event, is a
 * violation (answered 401 or 400, as a receiver would). It answers 204, or
 * as scripted; `onEvent` lets a demo act on each verified event first.
 *
 * ```ts
 * import { FakeJangar } from "../fakes/jangar";
 *
 * const jangar = new FakeJangar({ secrets: ["whsec_..."] });   // https://jangar.test/events
 * vi.stubGlobal("fetch", jangar.fetch);
 * vi.stubEnv("JANGAR_EVENTS_URL", jangar.baseUrl);
 * jangar.answerNext({ status: 429, retryAfter: "30" }, { status: 503 }, "network", "hang", { status: 410 });
 * // ... run the code under test, then:
 * expect(jangar.events().map((event) => event.type)).toEqual(["chat.message.created", ...]);
 * expect(jangar.calls.map((call) => [call.id, call.answer])).toEqual([...]);
 * expect(jangar.violations).toEqual([]);
 *
 * const { url, close } = await jangar.serve(4112);   // http://127.0.0.1:4112/events, for JANGAR_EVENTS_URL
 * ```
 */
import { Webhook } from "svix";
import { parseEvent } from "../client/events";
import type { JangarEvent } from "../src/events/types";
import { FakeService, type FakeRequest, type RecordedCall, type ScriptedAnswer } from "./http";

export const FAKE_JANGAR_URL = "https://jangar.test/events";
/** A secret for tests and the demo (`whsec_` and base64 of 24 bytes). */
export const FAKE_JANGAR_SECRET = "whsec_ZmFrZS1qYW5nYXItZXZlbnRzLXNpZ25pbmctaw==";

/** How the fake answers one request: normally (204), or as scripted. */
export type JangarAnswer = "ok" | ScriptedAnswer;

/**
 * One request received: its Standard Webhooks headers, its raw body, the
 * secrets (by their index in `secrets`) under which svix verified it, the
 * event it carried (when it verified and parsed), and the answer it got.
 */
export type JangarCall = RecordedCall<JangarAnswer> & {
  id: string;
  timestamp: string;
  signatures: string[];
  body: string;
  verifiedBy: number[];
  event?: JangarEvent;
};

export type EventHandler = (event: { id: string; event: JangarEvent; body: string; headers: Headers }) => Promise<void> | void;

export class FakeJangar extends FakeService<JangarAnswer, JangarCall> {
  readonly secrets: readonly string[];
  /** Called with each verified event before it is answered normally: what Jangar's server does with it. */
  onEvent?: EventHandler;
  private readonly verifiers: Webhook[];

  constructor({ baseUrl = FAKE_JANGAR_URL, secrets = [FAKE_JANGAR_SECRET], onEvent }: { baseUrl?: string; secrets?: readonly string[]; onEvent?: EventHandler } = {}) {
    super(baseUrl);
    this.secrets = secrets;
    this.verifiers = secrets.map((secret) => new Webhook(secret));
    this.onEvent = onEvent;
  }

  /** The events received that verified, in order (a retried event once per attempt). */
  events(): JangarEvent[] {
    return this.calls.flatMap((call) => (call.event === undefined ? [] : [call.event]));
  }

  protected async receive(request: FakeRequest): Promise<Response> {
    if (request.method !== "POST" || request.path !== "") {
      return this.violation(`${request.method} ${request.url.href}: events arrive as POST to the URL itself`, new Response(null, { status: 404 }));
    }
    if (request.headers.get("content-type") !== "application/json") {
      return this.violation(`Content-Type ${request.headers.get("content-type")}, not application/json`);
    }
    const headers = {
      "webhook-id": request.headers.get("webhook-id") ?? "",
      "webhook-timestamp": request.headers.get("webhook-timestamp") ?? "",
      "webhook-signature": request.headers.get("webhook-signature") ?? "",
    };
    const verifiedBy: number[] = [];
    let payload: unknown;
    for (const [index, verifier] of this.verifiers.entries()) {
      try {
        payload = verifier.verify(request.body, headers);
        verifiedBy.push(index);
      } catch {
        // Not signed with this secret (or not at all): the next one may have signed it.
      }
    }
    const answer = this.nextAnswer() ?? "ok";
    const call = this.record({
      at: Date.now(),
      answer,
      id: headers["webhook-id"],
      timestamp: headers["webhook-timestamp"],
      signatures: headers["webhook-signature"].split(" ").filter(Boolean),
      body: request.body,
      verifiedBy,
    });
    if (verifiedBy.length === 0) {
      return this.violation(`event ${headers["webhook-id"]}: no secret verifies its signature, or its timestamp is stale`, new Response("not verified", { status: 401 }));
    }
    try {
      call.event = parseEvent(payload);
    } catch (error) {
      return this.violation(`event ${headers["webhook-id"]}: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (answer !== "ok") {
      return await this.answerWith(answer, request.signal);
    }
    await this.onEvent?.({ id: call.id, event: call.event, body: request.body, headers: request.headers });
    return new Response(null, { status: 204 });
  }
}
