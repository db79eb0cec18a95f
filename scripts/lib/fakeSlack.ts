/**
 * A fake of the part of Slack's Web API this service calls (chat.postMessage,
 * chat.update), to stand in for `fetch` in tests and behind a loopback HTTP
 * server in `scripts/fake-slack.ts`. It checks each request as Slack would
 * (URL, method, headers, JSON arguments), keeps the messages it holds, and
 * answers as told: ok, an `ok: false` error, 429 with Retry-After, 5xx, a
 * network error or a request that never answers. What it finds wrong is
 * listed in `violations` instead of thrown, so a test can assert on it.
 */

export const FAKE_SLACK_TOKEN = "xoxb-000000000000-0000000000000-fAkEtOkEnFoRtEsTs";
export const SLACK_API_BASE = "https://slack.com/api";

export type FakeAnswer =
  | "ok"
  | "network"
  | "hang"
  | { error: string }
  | { status: 429; retryAfter?: string }
  | { status: 500 | 502 | 503 | 504 };

export type FakeMessage = { channel: string; ts: string; threadTs?: string; text: string; blocks?: unknown; edits: number };
export type RecordedCall = { method: string; args: Record<string, unknown>; at: number; answer: FakeAnswer };

const ARGUMENTS: Record<string, { required: string[]; optional: string[] }> = {
  "chat.postMessage": { required: ["channel", "text"], optional: ["thread_ts", "blocks"] },
  "chat.update": { required: ["channel", "ts", "text"], optional: ["blocks"] },
};

export class FakeSlack {
  readonly calls: RecordedCall[] = [];
  readonly violations: string[] = [];
  readonly messages: FakeMessage[] = [];
  /** Channels where Slack answers every call with this error (`not_in_channel`, `channel_not_found`, ...). */
  readonly refusedChannels = new Map<string, string>();
  /** Called with each request's outcome, for a server that prints them. */
  onRequest?: (request: { call: RecordedCall } | { violation: string }) => void;
  private readonly scripted: FakeAnswer[] = [];
  private posted = 0;

  constructor(readonly expected: { token: string; baseUrl: string } = { token: FAKE_SLACK_TOKEN, baseUrl: SLACK_API_BASE }) {}

  /** The next calls are answered so, one each, in order; then calls are answered normally again. */
  answerNext(...answers: FakeAnswer[]) {
    this.scripted.push(...answers);
  }

  /** The messages of a thread as Slack shows them now, oldest first. */
  thread(channel: string, threadTs: string): FakeMessage[] {
    return this.messages.filter((message) => message.channel === channel && message.threadTs === threadTs);
  }

  private violation(problem: string): Response {
    this.violations.push(problem);
    this.onRequest?.({ violation: problem });
    return Response.json({ ok: false, error: "invalid_request" });
  }

  readonly fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const method = url.startsWith(`${this.expected.baseUrl}/`) ? url.slice(this.expected.baseUrl.length + 1) : null;
    if (method === null || !(method in ARGUMENTS)) {
      return this.violation(`unexpected URL ${url}`);
    }
    const headers = new Headers(init?.headers);
    if (init?.method !== "POST") {
      return this.violation(`${method}: HTTP method ${init?.method}, not POST`);
    }
    if (headers.get("authorization") !== `Bearer ${this.expected.token}`) {
      return this.violation(`${method}: Authorization is not the bot token as a bearer token`);
    }
    if (headers.get("content-type") !== "application/json; charset=utf-8") {
      return this.violation(`${method}: Content-Type ${headers.get("content-type")}`);
    }
    let args: Record<string, unknown>;
    try {
      args = JSON.parse(typeof init.body === "string" ? init.body : "") as Record<string, unknown>;
    } catch {
      return this.violation(`${method}: the body is not JSON`);
    }
    const { required, optional } = ARGUMENTS[method];
    const missing = required.filter((name) => typeof args[name] !== "string" || (args[name] as string).length === 0);
    const unknown = Object.keys(args).filter((name) => !required.includes(name) && !optional.includes(name));
    if (missing.length > 0 || unknown.length > 0) {
      return this.violation(`${method}: missing ${missing.join(", ") || "nothing"}, unknown ${unknown.join(", ") || "nothing"}`);
    }
    const answer = this.scripted.shift() ?? "ok";
    const call = { method, args, at: Date.now(), answer };
    this.calls.push(call);
    this.onRequest?.({ call });
    return await this.respond(method, args, answer, init.signal ?? undefined);
  };

  private async respond(method: string, args: Record<string, unknown>, answer: FakeAnswer, signal?: AbortSignal): Promise<Response> {
    if (answer === "network") {
      throw new TypeError("fetch failed: getaddrinfo ENOTFOUND slack.com");
    }
    if (answer === "hang") {
      return await new Promise<Response>((_, reject) => {
        signal?.addEventListener("abort", () => reject(new DOMException("The operation was aborted.", "AbortError")));
      });
    }
    if (answer !== "ok") {
      if ("error" in answer) {
        return Response.json({ ok: false, error: answer.error });
      }
      if (answer.status === 429) {
        return Response.json({ ok: false, error: "ratelimited" }, { status: 429, headers: answer.retryAfter ? { "Retry-After": answer.retryAfter } : {} });
      }
      return new Response("<html>upstream connect error</html>", { status: answer.status });
    }
    const channel = args.channel as string;
    const text = args.text as string;
    const refused = this.refusedChannels.get(channel);
    if (refused !== undefined) {
      return Response.json({ ok: false, error: refused });
    }
    if (text.length > 40_000) {
      return Response.json({ ok: false, error: "msg_too_long" });
    }
    if (method === "chat.update") {
      const message = this.messages.find((candidate) => candidate.channel === channel && candidate.ts === args.ts);
      if (message === undefined) {
        return Response.json({ ok: false, error: "message_not_found" });
      }
      Object.assign(message, { text, blocks: args.blocks, edits: message.edits + 1 });
      return Response.json({ ok: true, channel, ts: message.ts, text });
    }
    // Slack's ts: the time in seconds and a sequence that makes it unique in the channel.
    this.posted += 1;
    const ts = `${Math.floor(Date.now() / 1000)}.${String(this.posted).padStart(6, "0")}`;
    const threadTs = args.thread_ts as string | undefined;
    this.messages.push({ channel, ts, threadTs, text, blocks: args.blocks, edits: 0 });
    return Response.json({ ok: true, channel, ts, message: { type: "message", text, ts, thread_ts: threadTs, bot_id: "B0JANGAR" } });
  }
}
