/**
 * A fake of the part of Slack's Web API this service calls: chat.postMessage,
 * chat.update and chat.postEphemeral (POST, JSON), and conversations.replies
 * (GET, arguments in the query) to look for a post whose outcome was unclear.
 * It checks each request as Slack would (URL, method, bearer token, headers,
 * each method's arguments), keeps the messages it holds, and answers as Slack
 * does, or as scripted. Writes are recorded in `calls`, reads in `reads`, each
 * with its own script; what a request did wrong is listed in `violations`.
 *
 * ```ts
 * import { FAKE_SLACK_TOKEN, FakeSlack } from "../fakes/slack";
 *
 * const slack = new FakeSlack({ channels: ["C0AB1"] });   // https://slack.com/api, FAKE_SLACK_TOKEN
 * vi.stubGlobal("fetch", slack.fetch);
 * vi.stubEnv("SLACK_BOT_TOKEN", FAKE_SLACK_TOKEN);
 * slack.answerNext({ status: 429, retryAfter: "3" }, { error: "not_in_channel" }, "network", "hang");
 * slack.answerNextRead({ error: "missing_scope" });
 * // ... run the code under test, then:
 * expect(slack.calls.map(({ method, answer }) => [method, answer])).toEqual([["chat.postMessage", { status: 429, retryAfter: "3" }], ...]);
 * expect(slack.thread("C0AB1", threadTs).map((message) => message.text)).toEqual([...]);
 * expect(slack.violations).toEqual([]);
 *
 * const { url, close } = await slack.serve(4111);   // http://127.0.0.1:4111/api, for SLACK_API_URL
 * ```
 */
import { FakeService, type FakeRequest, type RecordedCall, type ScriptedAnswer } from "./http";

export const FAKE_SLACK_TOKEN = "xoxb-000000000000-0000000000000-fAkEtOkEnFoRtEsTs";
/** The bot's user and bot ids, as Slack shows them on the bot's own messages. */
export const FAKE_SLACK_BOT_USER = "U0JANGAR";
const FAKE_SLACK_BOT_ID = "B0JANGAR";
const SLACK_API_BASE = "https://slack.com/api";

/**
 * How Slack answers one request: `"ok"` (normally), `{ error }` (200 with
 * `ok: false`), `"postedThenHang"` (the post is made, its answer never comes),
 * or any scripted answer; a status without a body gets Slack's (429:
 * `ratelimited`, 5xx: its proxy's HTML), and `posted: true` makes the post
 * before answering with that status.
 */
export type SlackAnswer = "ok" | "postedThenHang" | { error: string } | ScriptedAnswer | { status: number; retryAfter?: string; posted: true };

export type SlackMessage = {
  channel: string;
  ts: string;
  threadTs?: string;
  text: string;
  blocks?: unknown;
  metadata?: unknown;
  edits: number;
  /** Who wrote it, when a person did (a test adds such messages); else the bot, through the Web API. */
  user?: string;
};
/** A message only `user` sees: Slack keeps it nowhere a later call can read. */
export type SlackEphemeral = { channel: string; user: string; threadTs?: string; text: string };
/** One Web API call: its method (`chat.postMessage`), its arguments, and the answer it got. */
export type SlackCall = RecordedCall<SlackAnswer> & { method: string; args: Record<string, unknown> };

type Arguments = { required: string[]; optional: string[] };

// Write methods: POST, arguments as JSON.
const WRITE_ARGUMENTS: Record<string, Arguments> = {
  "chat.postMessage": { required: ["channel", "text"], optional: ["thread_ts", "blocks", "metadata"] },
  "chat.update": { required: ["channel", "ts", "text"], optional: ["blocks"] },
  "chat.postEphemeral": { required: ["channel", "user", "text"], optional: ["thread_ts", "blocks"] },
};

// Read methods: GET, arguments in the query string.
const READ_ARGUMENTS: Record<string, Arguments> = {
  "conversations.replies": { required: ["channel", "ts"], optional: ["oldest", "latest", "inclusive", "limit", "cursor", "include_all_metadata"] },
};

export class FakeSlack extends FakeService<SlackAnswer, SlackCall> {
  /** The read calls (conversations.replies), in order; `calls` holds the writes. */
  readonly reads: SlackCall[] = [];
  readonly messages: SlackMessage[] = [];
  readonly ephemerals: SlackEphemeral[] = [];
  /** Channels where Slack answers every call with this error (`not_in_channel`, `channel_not_found`, ...). */
  readonly refusedChannels = new Map<string, string>();
  readonly token: string;
  /** The channels the bot is in, when given: any other is `channel_not_found`. */
  readonly channels: readonly string[] | undefined;
  private readonly readScript: SlackAnswer[] = [];
  private posted = 0;

  constructor({ token = FAKE_SLACK_TOKEN, baseUrl = SLACK_API_BASE, channels }: { token?: string; baseUrl?: string; channels?: readonly string[] } = {}) {
    super(baseUrl);
    this.token = token;
    this.channels = channels;
  }

  /** The next reads are answered so, one each, in order (`answerNext` scripts the writes). */
  answerNextRead(...answers: SlackAnswer[]) {
    this.readScript.push(...answers);
  }

  /** The replies of a thread as Slack shows them now, oldest first. */
  thread(channel: string, threadTs: string): SlackMessage[] {
    return this.messages.filter((message) => message.channel === channel && message.threadTs === threadTs);
  }

  protected async receive(request: FakeRequest): Promise<Response> {
    const method = request.path.replace(/^\//, "");
    if (!(method in WRITE_ARGUMENTS || method in READ_ARGUMENTS)) {
      return this.refused(`unexpected URL ${request.url.href}`, "unknown_method");
    }
    const authorization = request.headers.get("authorization");
    if (authorization !== `Bearer ${this.token}`) {
      return this.refused(`${method}: Authorization is not the bot token as a bearer token`, authorization === null ? "not_authed" : "invalid_auth");
    }
    if (method in READ_ARGUMENTS) {
      return await this.read(method, request);
    }
    if (request.method !== "POST") {
      return this.refused(`${method}: HTTP method ${request.method}, not POST`);
    }
    if (request.headers.get("content-type") !== "application/json; charset=utf-8") {
      return this.refused(`${method}: Content-Type ${request.headers.get("content-type")}`);
    }
    let args: Record<string, unknown>;
    try {
      args = JSON.parse(request.body) as Record<string, unknown>;
    } catch {
      return this.refused(`${method}: the body is not JSON`);
    }
    const call = this.checked(method, args, WRITE_ARGUMENTS[method], () => this.nextAnswer());
    if (call instanceof Response) {
      return call;
    }
    this.record(call);
    return await this.respond(method, args, call.answer, request.signal);
  }

  /** A read method: GET, its arguments in the query; answered from the messages held. */
  private async read(method: string, request: FakeRequest): Promise<Response> {
    if (request.method !== "GET") {
      return this.refused(`${method}: HTTP method ${request.method}, not GET`);
    }
    const args = Object.fromEntries(request.url.searchParams);
    const call = this.checked(method, args, READ_ARGUMENTS[method], () => this.readScript.shift());
    if (call instanceof Response) {
      return call;
    }
    this.reads.push(call);
    this.onCall?.({ call });
    if (call.answer !== "ok") {
      return await this.respond(method, args, call.answer, request.signal);
    }
    // A thread's messages since `oldest`, oldest first, `limit` at a time (the cursor is where the page starts).
    const since = Number(args.oldest ?? 0);
    const thread = this.messages.filter(
      (message) => message.channel === args.channel && message.threadTs === args.ts && Number(message.ts) >= since,
    );
    const start = Number(args.cursor ?? 0);
    const limit = Math.min(Number(args.limit ?? 15), 15);
    const page = thread.slice(start, start + limit).map(({ ts, text, metadata, user }) => ({
      type: "message",
      ts,
      text,
      thread_ts: args.ts,
      ...(user === undefined ? { user: FAKE_SLACK_BOT_USER, bot_id: FAKE_SLACK_BOT_ID } : { user }),
      ...(args.include_all_metadata === "true" && metadata !== undefined ? { metadata } : {}),
    }));
    const more = start + limit < thread.length;
    return Response.json({ ok: true, messages: page, has_more: more, response_metadata: { next_cursor: more ? String(start + limit) : "" } });
  }

  /**
   * A call whose arguments are the method's (each required one a non-empty
   * string, none unknown), with the next answer of its script; or the
   * violation's answer.
   */
  private checked(method: string, args: Record<string, unknown>, { required, optional }: Arguments, nextAnswer: () => SlackAnswer | undefined): SlackCall | Response {
    const missing = required.filter((name) => {
      const value = args[name];
      return typeof value !== "string" || value.length === 0;
    });
    const unknown = Object.keys(args).filter((name) => !required.includes(name) && !optional.includes(name));
    if (missing.length > 0 || unknown.length > 0) {
      return this.refused(`${method}: missing ${missing.join(", ") || "nothing"}, unknown ${unknown.join(", ") || "nothing"}`);
    }
    return { method, args, at: Date.now(), answer: nextAnswer() ?? "ok" };
  }

  /** Slack's answer to a bad request: 200, `ok: false`. */
  protected refusal(): Response {
    return Response.json({ ok: false, error: "invalid_request" });
  }

  /** A violation, answered with Slack's error for it. */
  private refused(problem: string, error = "invalid_request"): Response {
    return this.violation(problem, Response.json({ ok: false, error }));
  }

  private async respond(method: string, args: Record<string, unknown>, answer: SlackAnswer, signal?: AbortSignal): Promise<Response> {
    if (answer === "postedThenHang") {
      await this.respond(method, args, "ok");
      return await this.answerWith("hang", signal);
    }
    if (answer === "network" || answer === "hang") {
      return await this.answerWith(answer, signal);
    }
    if (answer !== "ok") {
      if ("error" in answer) {
        return Response.json({ ok: false, error: answer.error });
      }
      if ("posted" in answer) {
        await this.respond(method, args, "ok");
      }
      const body = "body" in answer ? answer.body : answer.status === 429 ? { ok: false, error: "ratelimited" } : "<html>upstream connect error</html>";
      return await this.answerWith({ ...answer, body }, signal);
    }
    const channel = args.channel as string;
    const text = args.text as string;
    const refused = this.refusedChannels.get(channel) ?? (this.channels !== undefined && !this.channels.includes(channel) ? "channel_not_found" : undefined);
    if (refused !== undefined) {
      return Response.json({ ok: false, error: refused });
    }
    if (text.length > 40_000) {
      return Response.json({ ok: false, error: "msg_too_long" });
    }
    if (method === "chat.postEphemeral") {
      const threadTs = args.thread_ts as string | undefined;
      this.ephemerals.push({ channel, user: args.user as string, threadTs, text });
      return Response.json({ ok: true, message_ts: this.nextTs() });
    }
    if (method === "chat.update") {
      const message = this.messages.find((candidate) => candidate.channel === channel && candidate.ts === args.ts);
      if (message === undefined) {
        return Response.json({ ok: false, error: "message_not_found" });
      }
      Object.assign(message, { text, blocks: args.blocks, edits: message.edits + 1 });
      return Response.json({ ok: true, channel, ts: message.ts, text });
    }
    const ts = this.nextTs();
    const threadTs = args.thread_ts as string | undefined;
    this.messages.push({ channel, ts, threadTs, text, blocks: args.blocks, metadata: args.metadata, edits: 0 });
    return Response.json({ ok: true, channel, ts, message: { type: "message", text, ts, thread_ts: threadTs, user: FAKE_SLACK_BOT_USER, bot_id: FAKE_SLACK_BOT_ID } });
  }

  /** Slack's ts: the time in seconds and a sequence that makes it unique in the channel. */
  private nextTs(): string {
    this.posted += 1;
    return `${Math.floor(Date.now() / 1000)}.${String(this.posted).padStart(6, "0")}`;
  }
}
