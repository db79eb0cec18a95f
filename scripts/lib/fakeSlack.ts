/**
 * A fake of the part of Slack's Web API this service calls (chat.postMessage,
 * chat.update, chat.postEphemeral, and conversations.replies to look for a
 * post whose outcome was unclear), to stand in for `fetch` in tests and behind a loopback HTTP
 * server in `scripts/fake-slack.ts`. It checks each request as Slack would
 * (URL, method, headers, arguments: JSON for writes, the query for reads),
 * keeps the messages it holds, and answers as told: ok, an `ok: false`
 * error, 429 with Retry-After, 5xx, a network error, a request that never
 * answers, or a post made but answered with a 5xx or never answered. Writes
 * are recorded in `calls`, reads in `reads`, each with its own script. What
 * it finds wrong is listed in `violations` instead of thrown, so a test can
 * assert on it.
 */

export const FAKE_SLACK_TOKEN = "xoxb-000000000000-0000000000000-fAkEtOkEnFoRtEsTs";
export const SLACK_API_BASE = "https://slack.com/api";

export type FakeAnswer =
  | "ok"
  | "network"
  | "hang"
  /** The post is made, but its answer never comes. */
  | "postedThenHang"
  | { error: string }
  | { status: 429; retryAfter?: string }
  /** `posted`: the request is carried out, and then answered with this status. */
  | { status: 500 | 502 | 503 | 504; posted?: true };

export type FakeMessage = {
  channel: string;
  ts: string;
  threadTs?: string;
  text: string;
  blocks?: unknown;
  metadata?: unknown;
  edits: number;
};
/** A message only `user` sees: Slack keeps it nowhere a later call can read. */
export type FakeEphemeral = { channel: string; user: string; threadTs?: string; text: string };
export type RecordedCall = { method: string; args: Record<string, unknown>; at: number; answer: FakeAnswer };

const ARGUMENTS: Record<string, { required: string[]; optional: string[] }> = {
  "chat.postMessage": { required: ["channel", "text"], optional: ["thread_ts", "blocks", "metadata"] },
  "chat.update": { required: ["channel", "ts", "text"], optional: ["blocks"] },
  "chat.postEphemeral": { required: ["channel", "user", "text"], optional: ["thread_ts", "blocks"] },
};

// Read methods: GET, arguments in the query string.
const READ_ARGUMENTS: Record<string, { required: string[]; optional: string[] }> = {
  "conversations.replies": { required: ["channel", "ts"], optional: ["oldest", "latest", "inclusive", "limit", "cursor", "include_all_metadata"] },
};

export class FakeSlack {
  readonly calls: RecordedCall[] = [];
  readonly reads: RecordedCall[] = [];
  readonly violations: string[] = [];
  readonly messages: FakeMessage[] = [];
  readonly ephemerals: FakeEphemeral[] = [];
  /** Channels where Slack answers every call with this error (`not_in_channel`, `channel_not_found`, ...). */
  readonly refusedChannels = new Map<string, string>();
  /** Called with each request's outcome, for a server that prints them. */
  onRequest?: (request: { call: RecordedCall } | { violation: string }) => void;
  private readonly scripted: FakeAnswer[] = [];
  private readonly scriptedReads: FakeAnswer[] = [];
  private posted = 0;

  constructor(readonly expected: { token: string; baseUrl: string } = { token: FAKE_SLACK_TOKEN, baseUrl: SLACK_API_BASE }) {}

  /** The next calls (writes) are answered so, one each, in order; then calls are answered normally again. */
  answerNext(...answers: FakeAnswer[]) {
    this.scripted.push(...answers);
  }

  /** The next reads are answered so, one each, in order. */
  answerNextRead(...answers: FakeAnswer[]) {
    this.scriptedReads.push(...answers);
  }

  /** The messages of a thread as Slack shows them now, oldest first. */
  thread(channel: string, threadTs: string): FakeMessage[] {
    return this.messages.filter((message) => message.channel === channel && message.threadTs === threadTs);
  }

  /**
   * A request whose arguments are the method's (each required one a non-empty
   * string, none unknown), recorded with the next answer of its script; or
   * the violation's answer.
   */
  private record(
    method: string,
    args: Record<string, unknown>,
    { required, optional }: { required: string[]; optional: string[] },
    script: FakeAnswer[],
    log: RecordedCall[],
  ): RecordedCall | Response {
    const missing = required.filter((name) => {
      const value = args[name];
      return typeof value !== "string" || value.length === 0;
    });
    const unknown = Object.keys(args).filter((name) => !required.includes(name) && !optional.includes(name));
    if (missing.length > 0 || unknown.length > 0) {
      return this.violation(`${method}: missing ${missing.join(", ") || "nothing"}, unknown ${unknown.join(", ") || "nothing"}`);
    }
    const call = { method, args, at: Date.now(), answer: script.shift() ?? "ok" };
    log.push(call);
    this.onRequest?.({ call });
    return call;
  }

  private violation(problem: string): Response {
    this.violations.push(problem);
    this.onRequest?.({ violation: problem });
    return Response.json({ ok: false, error: "invalid_request" });
  }

  readonly fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const [path, query = ""] = url.split("?", 2);
    const method = path.startsWith(`${this.expected.baseUrl}/`) ? path.slice(this.expected.baseUrl.length + 1) : null;
    if (method === null || !(method in ARGUMENTS || method in READ_ARGUMENTS)) {
      return this.violation(`unexpected URL ${url}`);
    }
    const headers = new Headers(init?.headers);
    if (headers.get("authorization") !== `Bearer ${this.expected.token}`) {
      return this.violation(`${method}: Authorization is not the bot token as a bearer token`);
    }
    if (method in READ_ARGUMENTS) {
      return await this.read(method, new URLSearchParams(query), init);
    }
    if (init?.method !== "POST") {
      return this.violation(`${method}: HTTP method ${init?.method}, not POST`);
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
    const call = this.record(method, args, ARGUMENTS[method], this.scripted, this.calls);
    return call instanceof Response ? call : await this.respond(method, args, call.answer, init.signal ?? undefined);
  };

  /** A read method: GET, its arguments in the query; answered from the messages held. */
  private async read(method: string, query: URLSearchParams, init?: RequestInit): Promise<Response> {
    if ((init?.method ?? "GET") !== "GET") {
      return this.violation(`${method}: HTTP method ${init?.method}, not GET`);
    }
    const args = Object.fromEntries(query);
    const call = this.record(method, args, READ_ARGUMENTS[method], this.scriptedReads, this.reads);
    if (call instanceof Response) {
      return call;
    }
    if (call.answer !== "ok") {
      return await this.respond(method, args, call.answer, init?.signal ?? undefined);
    }
    // A thread's messages since `oldest`, oldest first, `limit` at a time (the cursor is where the page starts).
    const since = Number(args.oldest ?? 0);
    const thread = this.messages.filter(
      (message) => message.channel === args.channel && message.threadTs === args.ts && Number(message.ts) >= since,
    );
    const start = Number(args.cursor ?? 0);
    const limit = Math.min(Number(args.limit ?? 15), 15);
    const page = thread.slice(start, start + limit).map(({ ts, text, metadata }) => ({
      type: "message",
      ts,
      text,
      thread_ts: args.ts,
      bot_id: "B0JANGAR",
      ...(args.include_all_metadata === "true" && metadata !== undefined ? { metadata } : {}),
    }));
    const more = start + limit < thread.length;
    return Response.json({ ok: true, messages: page, has_more: more, response_metadata: { next_cursor: more ? String(start + limit) : "" } });
  }

  private async respond(method: string, args: Record<string, unknown>, answer: FakeAnswer, signal?: AbortSignal): Promise<Response> {
    if (answer === "network") {
      throw new TypeError("fetch failed: getaddrinfo ENOTFOUND slack.com");
    }
    const hang = () =>
      new Promise<Response>((_, reject) => {
        signal?.addEventListener("abort", () => reject(new DOMException("The operation was aborted.", "AbortError")));
      });
    if (answer === "hang") {
      return await hang();
    }
    if (answer === "postedThenHang") {
      await this.respond(method, args, "ok");
      return await hang();
    }
    if (answer !== "ok") {
      if ("error" in answer) {
        return Response.json({ ok: false, error: answer.error });
      }
      if (answer.status === 429) {
        return Response.json({ ok: false, error: "ratelimited" }, { status: 429, headers: answer.retryAfter ? { "Retry-After": answer.retryAfter } : {} });
      }
      if ("posted" in answer) {
        await this.respond(method, args, "ok");
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
    if (method === "chat.postEphemeral") {
      const threadTs = args.thread_ts as string | undefined;
      this.ephemerals.push({ channel, user: args.user as string, threadTs, text });
      return Response.json({ ok: true, message_ts: `${Math.floor(Date.now() / 1000)}.${String(++this.posted).padStart(6, "0")}` });
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
    this.messages.push({ channel, ts, threadTs, text, blocks: args.blocks, metadata: args.metadata, edits: 0 });
    return Response.json({ ok: true, channel, ts, message: { type: "message", text, ts, thread_ts: threadTs, bot_id: "B0JANGAR" } });
  }
}
