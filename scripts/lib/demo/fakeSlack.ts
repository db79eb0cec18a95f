/**
 * Slack's Web API as the demo needs it (`POST https://slack.com/api/<method>`),
 * answering as Slack does: `ok: true` with the message's `ts`, or `ok: false`
 * with Slack's error (`not_authed`, `invalid_auth`, `channel_not_found`,
 * `message_not_found`, `unknown_method`). It keeps each channel's messages,
 * so that a thread can be shown as a person in Slack would see it.
 */

export type SlackMessage = { channel: string; ts: string; threadTs?: string; text: string; blocks?: unknown; edits: number };

export class FakeSlackApi {
  readonly messages: SlackMessage[] = [];
  private clock = 1_747_213_930;

  constructor(readonly token: string, readonly channels: readonly string[]) {}

  handles(url: URL): boolean {
    return url.origin === "https://slack.com" && url.pathname.startsWith("/api/");
  }

  private nextTs(): string {
    this.clock += 1;
    return `${this.clock}.000100`;
  }

  async answer(url: URL, init: RequestInit | undefined): Promise<Response> {
    const ok = (fields: Record<string, unknown>) => Response.json({ ok: true, ...fields });
    const error = (name: string) => Response.json({ ok: false, error: name });
    const authorization = new Headers(init?.headers).get("authorization");
    if (authorization === null) {
      return error("not_authed");
    }
    if (authorization !== `Bearer ${this.token}`) {
      return error("invalid_auth");
    }
    const args = JSON.parse(typeof init?.body === "string" ? init.body : "{}") as Record<string, unknown>;
    const channel = String(args.channel ?? "");
    const method = url.pathname.slice("/api/".length);
    if (["chat.postMessage", "chat.update", "chat.postEphemeral"].includes(method) && !this.channels.includes(channel)) {
      return error("channel_not_found");
    }
    switch (method) {
      case "chat.postMessage": {
        const message: SlackMessage = {
          channel,
          ts: this.nextTs(),
          threadTs: typeof args.thread_ts === "string" ? args.thread_ts : undefined,
          text: String(args.text ?? ""),
          blocks: args.blocks,
          edits: 0,
        };
        this.messages.push(message);
        return ok({ channel, ts: message.ts, message: { type: "message", text: message.text, ts: message.ts, thread_ts: message.threadTs } });
      }
      case "chat.update": {
        const message = this.messages.find((candidate) => candidate.channel === channel && candidate.ts === args.ts);
        if (message === undefined) {
          return error("message_not_found");
        }
        message.text = String(args.text ?? message.text);
        message.blocks = args.blocks ?? message.blocks;
        message.edits += 1;
        return ok({ channel, ts: message.ts, text: message.text });
      }
      case "chat.postEphemeral":
        return ok({ message_ts: this.nextTs() });
      default:
        return error("unknown_method");
    }
  }

  /** The messages of one thread, in the order they were posted. */
  thread(channel: string, threadTs: string): SlackMessage[] {
    return this.messages.filter((message) => message.channel === channel && (message.threadTs === threadTs || message.ts === threadTs));
  }
}
