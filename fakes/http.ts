/**
 * What every fake outside service shares (fakes/README.md): the answers a
 * test can script, the calls it records, `fetch` for its base URL, and
 * `serve(port)` over loopback HTTP. A fake extends `FakeService` and writes
 * one method, `receive`, that checks a request as the real service would and
 * answers it.
 *
 * ```ts
 * class FakeThing extends FakeService<ScriptedAnswer, RecordedCall<ScriptedAnswer | "normal">> {
 *   constructor() {
 *     super("https://thing.example/api");
 *   }
 *   protected async receive(request: FakeRequest): Promise<Response> {
 *     const answer = this.nextAnswer();
 *     this.record({ method: request.method, path: request.path, at: Date.now(), answer: answer ?? "normal" });
 *     return answer === undefined ? Response.json({ ok: true }) : await this.answerWith(answer, request.signal);
 *   }
 * }
 * const thing = new FakeThing();
 * vi.stubGlobal("fetch", thing.fetch);
 * thing.answerNext({ status: 503, headers: { "Retry-After": "3" }, body: "busy" }, "network", "hang");
 * ```
 */

/**
 * An answer other than the normal one, for the next request (`answerNext`)
 * or every request (`answerAlways`):
 * - a status, with headers and a body (an object is sent as JSON, a string as
 *   it is; `retryAfter` sets Retry-After);
 * - `"hang"`: no answer ever comes; the request fails when its signal aborts;
 * - `"network"`: `fetch` rejects, as when the host cannot be reached.
 */
export type ScriptedAnswer =
  | "network"
  | "hang"
  | { status: number; retryAfter?: string; headers?: Record<string, string>; body?: unknown };

/** One request a fake received, in order, with the answer it gave (a scripted one, or the fake's normal answer). */
export type RecordedCall<Answer> = { at: number; answer: Answer };

/** A request as a fake reads it: `path` is below the fake's base URL, `body` is the raw text. */
export type FakeRequest = {
  method: string;
  url: URL;
  path: string;
  headers: Headers;
  body: string;
  signal?: AbortSignal;
};

/** What `fetchFrom` needs of a fake: its base URL and its `fetch`. */
export type FakeEndpoint = Pick<FakeService<unknown, RecordedCall<unknown>>, "baseUrl" | "handles" | "fetch">;

/** A fake served over loopback: the base URL to give its client, and how to stop it. */
export type ServedFake = { url: string; close: () => Promise<void> };

export abstract class FakeService<Answer, Call extends RecordedCall<unknown>> {
  /** Every request received, in order. */
  readonly calls: Call[] = [];
  /** What a request did wrong that the real service would refuse: a test expects none. */
  readonly violations: string[] = [];
  /** How long each answer takes to come back after the request is received (with fake timers, in fake time): a slow service. */
  delayMs = 0;
  /** Called with each call and each violation as it happens: for a server that prints them. */
  onCall?: (event: { call: Call } | { violation: string }) => void;
  private readonly script: Answer[] = [];
  private always: Answer | undefined;

  constructor(readonly baseUrl: string) {}

  /** The next requests are answered so, one each, in order; then normally again. */
  answerNext(...answers: Answer[]): void {
    this.script.push(...answers);
  }

  /** Every request is answered so, until `answerNormally()`. */
  answerAlways(answer: Answer): void {
    this.always = answer;
  }

  /** Forgets every scripted answer: requests are answered normally. */
  answerNormally(): void {
    this.script.length = 0;
    this.always = undefined;
  }

  /** Whether a URL is this fake's: it starts with the base URL. */
  handles(url: string | URL): boolean {
    const href = String(url);
    return href === this.baseUrl || href.startsWith(`${this.baseUrl}/`) || href.startsWith(`${this.baseUrl}?`);
  }

  /** A stand-in for `globalThis.fetch` that answers for the fake's base URL. */
  readonly fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const href = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    if (!this.handles(href)) {
      return this.violation(`unexpected URL ${href}`);
    }
    const url = new URL(href);
    const request: FakeRequest = {
      method: init?.method ?? "GET",
      url,
      path: href.slice(this.baseUrl.length).split("?")[0],
      headers: new Headers(init?.headers),
      body: await bodyText(init?.body),
      signal: init?.signal ?? undefined,
    };
    const answer = await this.receive(request);
    if (this.delayMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    }
    return answer;
  };

  /**
   * Serves the fake on 127.0.0.1:`port` (0: any free port): each request is
   * answered by `fetch` as if sent to the base URL. Returns the base URL to
   * give the client (the loopback origin and the base URL's path).
   */
  async serve(port = 0): Promise<ServedFake> {
    const { createServer } = await import("node:http");
    const basePath = new URL(this.baseUrl).pathname.replace(/\/$/, "");
    const base = this.baseUrl.slice(0, this.baseUrl.length - basePath.length);
    const server = createServer((incoming, outgoing) => {
      const decoder = new TextDecoder();
      let body = "";
      incoming.on("data", (chunk: Uint8Array) => (body += decoder.decode(chunk, { stream: true })));
      incoming.on("end", () => {
        body += decoder.decode();
        const headers = new Headers();
        for (const [name, value] of Object.entries(incoming.headers)) {
          if (typeof value === "string") headers.set(name, value);
        }
        const aborted = new AbortController();
        outgoing.on("close", () => aborted.abort());
        this.fetch(`${base}${incoming.url ?? "/"}`, { method: incoming.method, headers, body: body || undefined, signal: aborted.signal })
          .then(async (answer) => {
            outgoing.writeHead(answer.status, Object.fromEntries(answer.headers));
            outgoing.end(await answer.text());
          })
          .catch(() => outgoing.destroy());
      });
    });
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    const { port: bound } = server.address() as { port: number };
    return {
      url: `http://127.0.0.1:${bound}${basePath}`,
      close: async () => {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      },
    };
  }

  /** Checks a request as the real service would, records it, and answers it. */
  protected abstract receive(request: FakeRequest): Promise<Response>;

  /** The scripted answer for this request, if any (`undefined`: answer normally). */
  protected nextAnswer(): Answer | undefined {
    return this.script.length > 0 ? this.script.shift() : this.always;
  }

  protected record(call: Call): Call {
    this.calls.push(call);
    this.onCall?.({ call });
    return call;
  }

  /** Records what the request did wrong; answers with `answer`, by default the fake's `refusal`. */
  protected violation(problem: string, answer: Response = this.refusal(problem)): Response {
    this.violations.push(problem);
    this.onCall?.({ violation: problem });
    return answer;
  }

  /** How the service answers a request it cannot take (by default 400, naming the problem). */
  protected refusal(problem: string): Response {
    return Response.json({ error: problem }, { status: 400 });
  }

  /** Carries out a generic scripted answer: a response, a rejection, or a wait until the request is aborted. */
  protected async answerWith(answer: ScriptedAnswer, signal: AbortSignal | undefined, host = new URL(this.baseUrl).host): Promise<Response> {
    if (answer === "network") {
      throw new TypeError(`fetch failed: getaddrinfo ENOTFOUND ${host}`);
    }
    if (answer === "hang") {
      return await new Promise<Response>((_, reject) => {
        const aborted = () => reject(new DOMException("The operation was aborted.", "AbortError"));
        if (signal?.aborted) aborted();
        signal?.addEventListener("abort", aborted);
      });
    }
    const headers = new Headers(answer.headers);
    if (answer.retryAfter !== undefined) headers.set("Retry-After", answer.retryAfter);
    if (typeof answer.body === "string" || answer.body === undefined) {
      return new Response(answer.body ?? null, { status: answer.status, headers });
    }
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
    return new Response(JSON.stringify(answer.body), { status: answer.status, headers });
  }
}

/**
 * A `fetch` that hands each request to the fake whose base URL it starts
 * with; any other URL fails as an unreachable host would. `onAnswer` sees
 * each answer (a script's trace).
 */
export function fetchFrom<Fake extends FakeEndpoint>(
  fakes: Fake[],
  onAnswer?: (fake: Fake, request: { method: string; url: URL }, response: Response) => Promise<void> | void,
): typeof fetch {
  return async (input: RequestInfo | URL, init?: RequestInit) => {
    const href = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const fake = fakes.find((candidate) => candidate.handles(href));
    if (fake === undefined) {
      throw new TypeError(`fetch failed: ${new URL(href).origin} is not one of the fakes (${fakes.map((each) => each.baseUrl).join(", ")}).`);
    }
    const response = await fake.fetch(input, init);
    await onAnswer?.(fake, { method: init?.method ?? "GET", url: new URL(href) }, response);
    return response;
  };
}

async function bodyText(body: BodyInit | null | undefined): Promise<string> {
  if (body === null || body === undefined) return "";
  if (typeof body === "string") return body;
  return await new Response(body).text();
}
