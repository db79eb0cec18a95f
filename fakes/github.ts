/**
 * A fake of GitHub's REST API, as far as the GitHub App uses it: installation
 * tokens, issue comments, reactions, check runs and the App's hook
 * deliveries. It checks what GitHub checks (the App JWT against the App's
 * public key, tokens and their expiry, the fields it validates) and records
 * every request with its answer.
 *
 *     const github = new FakeGitHub({ appId: 1234, publicKeyPem, appSlug: "jangar" });
 *     vi.stubGlobal("fetch", github.fetch);             // or: const { url } = await github.serve(0)
 *     github.answerNext({ match: "POST /repos/", status: 502 }); // then as GitHub would
 *     ... github.calls, github.comments, github.reactions
 *
 * Pure TypeScript over Web APIs: it runs in Node and in the tests' edge runtime.
 */

export const FAKE_GITHUB_URL = "https://api.github.test";

/** An answer other than the one the fake would give, for the next request it matches. */
export type FakeGithubAnswer = (
  | { status: number; headers?: Record<string, string>; body?: unknown | ((request: FakeGithubRequest) => unknown) }
  | { hang: true }
  | { networkError: string }
) & {
  /** Which request it is for: a prefix of `METHOD /path` (e.g. `POST /repos/`), or a pattern; any request when absent. */
  match?: string | RegExp;
};

/** A request as the fake read it. */
export type FakeGithubRequest = {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Who the credentials say is asking: the App (a valid JWT), an installation (a valid token), or nobody. */
  auth: "app" | { installationId: number } | "none";
  body: unknown;
  /** Every header, as sent (so an answer can echo them). */
  headers: Record<string, string>;
};

/** A request and what the fake answered. */
export type FakeGithubCall = FakeGithubRequest & {
  status: number | "hang" | "network error";
  answer: unknown;
};

export type FakeComment = {
  id: number;
  repository: string;
  number: number;
  body: string;
  user: { login: string; type: "Bot" };
  created_at: string;
  updated_at: string;
};

export type FakeReaction = {
  id: number;
  subject: "issue_comment" | "review_comment" | "issue";
  repository: string;
  /** The comment's id, or the issue's number. */
  subjectId: number;
  content: string;
};

export type FakeCheckRun = { id: number; repository: string } & Record<string, unknown>;

/** One of the App's webhook deliveries, as `GET /app/hook/deliveries` lists them. */
export type FakeHookDelivery = {
  id: number;
  guid: string;
  delivered_at: string;
  redelivery: boolean;
  status_code: number;
  status: string;
  event: string;
  action: string | null;
  installation_id: number | null;
  repository_id: number | null;
};

export type FakeGithubOptions = {
  /** The App's id: the `iss` a JWT must carry. */
  appId: number | string;
  /** The App's public key (SPKI PEM): JWTs are verified with it. */
  publicKeyPem: string;
  /** The App's slug: its comments are by `<slug>[bot]`. */
  appSlug?: string;
  baseUrl?: string;
  /** How long an installation token lasts (GitHub: an hour). */
  tokenLifetimeMs?: number;
  /** The installations and the repositories (`owner/repo`) each may reach; any installation reaches any repository when absent. */
  installations?: Record<number, readonly string[]>;
};

const REACTIONS = new Set(["+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"]);
const MAX_COMMENT_CHARS = 65_536;
const JWT_MAX_LIFETIME_S = 600;

type Answer = { status: number; body: unknown; headers?: Record<string, string> };
type Route = {
  method: string;
  pattern: RegExp;
  auth: "app" | "installation";
  handle: (request: FakeGithubRequest, params: string[]) => Answer;
};

const json = (status: number, body: unknown, headers?: Record<string, string>): Answer => ({ status, body, headers });
const notFound = () => json(404, { message: "Not Found", documentation_url: "https://docs.github.com/rest" });
const validationFailed = (resource: string, field: string, message: string) =>
  json(422, { message: "Validation Failed", errors: [{ resource, code: "custom", field, message }] });
const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

function base64UrlBytes(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) {
    return null;
  }
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(text.length / 4) * 4, "="));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

function derOfPem(pem: string): Uint8Array<ArrayBuffer> {
  const body = pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
  return Uint8Array.from(atob(body), (char) => char.charCodeAt(0));
}

function randomToken(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  return `ghs_${Array.from(crypto.getRandomValues(new Uint8Array(36)), (byte) => alphabet[byte % alphabet.length]).join("")}`;
}

function matches(answer: FakeGithubAnswer, request: FakeGithubRequest): boolean {
  const line = `${request.method} ${request.path}`;
  return answer.match === undefined || (typeof answer.match === "string" ? line.startsWith(answer.match) : answer.match.test(line));
}

export class FakeGitHub {
  readonly baseUrl: string;
  readonly calls: FakeGithubCall[] = [];
  readonly comments: FakeComment[] = [];
  readonly reactions: FakeReaction[] = [];
  readonly checkRuns: FakeCheckRun[] = [];
  /** The App's hook deliveries, newest last; tests add the ones GitHub would list. */
  readonly hookDeliveries: FakeHookDelivery[] = [];
  /** The ids of hook deliveries the App asked to redeliver, in order. */
  readonly redeliveries: number[] = [];
  /** How many installation tokens were issued, by installation. */
  readonly tokensIssued = new Map<number, number>();
  /** The tokens issued, in order (for tests that look for them where they must not be). */
  readonly issuedTokens: string[] = [];

  readonly #options: FakeGithubOptions;
  readonly #publicKey: Promise<CryptoKey>;
  readonly #tokens = new Map<string, { installationId: number; expiresAt: number }>();
  readonly #overrides: FakeGithubAnswer[] = [];
  #nextId = 2_000_000_001;
  #requests = 0;

  constructor(options: FakeGithubOptions) {
    this.#options = options;
    this.baseUrl = (options.baseUrl ?? FAKE_GITHUB_URL).replace(/\/+$/, "");
    this.#publicKey = crypto.subtle.importKey("spki", derOfPem(options.publicKeyPem), { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, [
      "verify",
    ]);
  }

  /** Answers the next requests that match as given, in order, instead of as GitHub would. */
  answerNext(...answers: FakeGithubAnswer[]): void {
    this.#overrides.push(...answers);
  }

  /** The requests made to one path pattern (`POST /repos/acme/api/issues/7/comments`), in order. */
  callsTo(method: string, pathPattern: RegExp): FakeGithubCall[] {
    return this.calls.filter((call) => call.method === method && pathPattern.test(call.path));
  }

  /** A stand-in for `globalThis.fetch` that answers for the fake's base URL, and throws for any other. */
  readonly fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    if (!request.url.startsWith(`${this.baseUrl}/`)) {
      throw new TypeError(`FakeGitHub answers ${this.baseUrl} only; asked for ${request.url}.`);
    }
    return await this.handle(request);
  };

  /** Answers one request as GitHub would (or as told to). */
  async handle(raw: Request): Promise<Response> {
    const url = new URL(raw.url);
    const path = url.pathname.slice(new URL(this.baseUrl).pathname.replace(/\/$/, "").length);
    const text = await raw.text();
    let body: unknown;
    try {
      body = text.length === 0 ? null : JSON.parse(text);
    } catch {
      body = text;
    }
    const request: FakeGithubRequest = {
      method: raw.method,
      path,
      query: Object.fromEntries(url.searchParams),
      auth: await this.#authOf(raw.headers.get("authorization")),
      body,
      headers: Object.fromEntries(raw.headers),
    };
    const call: FakeGithubCall = { ...request, status: 0, answer: null };
    this.calls.push(call);

    const override = this.#overrides.findIndex((answer) => matches(answer, request));
    if (override >= 0) {
      const [answer] = this.#overrides.splice(override, 1);
      if ("hang" in answer) {
        call.status = "hang";
        return await new Promise<Response>((_resolve, reject) => {
          const aborted = () => reject(new DOMException("The operation was aborted.", "AbortError"));
          if (raw.signal.aborted) {
            aborted();
          }
          raw.signal.addEventListener("abort", aborted);
        });
      }
      if ("networkError" in answer) {
        call.status = "network error";
        throw new TypeError(answer.networkError);
      }
      const answerBody = typeof answer.body === "function" ? (answer.body as (request: FakeGithubRequest) => unknown)(request) : answer.body;
      return this.#respond(call, json(answer.status, answerBody ?? null, answer.headers));
    }
    return this.#respond(call, this.#route(request));
  }

  /** Serves the fake over loopback HTTP, for scripts and the demo. */
  async serve(port = 0): Promise<{ url: string; close: () => Promise<void> }> {
    const http = await import("node:http");
    const server = http.createServer((incoming, outgoing) => {
      const chunks: Uint8Array<ArrayBuffer>[] = [];
      incoming.on("data", (chunk: Uint8Array<ArrayBuffer>) => chunks.push(chunk));
      incoming.on("end", () => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(incoming.headers)) {
          if (typeof value === "string") headers.set(name, value);
        }
        const hasBody = incoming.method !== "GET" && incoming.method !== "HEAD";
        const body = hasBody ? new Blob(chunks) : undefined;
        const request = new Request(`${this.baseUrl}${incoming.url ?? "/"}`, { method: incoming.method, headers, body });
        this.handle(request).then(
          async (response) => {
            outgoing.writeHead(response.status, Object.fromEntries(response.headers));
            outgoing.end(await response.text());
          },
          () => outgoing.destroy(),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    const address = server.address();
    const url = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : port}`;
    return { url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  }

  #respond(call: FakeGithubCall, answer: Answer): Response {
    call.status = answer.status;
    call.answer = answer.body;
    this.#requests += 1;
    const headers = {
      "content-type": "application/json; charset=utf-8",
      "x-github-request-id": `FAKE:${String(this.#requests).padStart(6, "0")}`,
      ...answer.headers,
    };
    const nullBody = answer.status === 204 || answer.status === 304;
    return new Response(nullBody ? null : JSON.stringify(answer.body), { status: answer.status, headers });
  }

  /** Who the Authorization header says is asking, when its JWT or token holds. */
  async #authOf(authorization: string | null): Promise<FakeGithubRequest["auth"]> {
    const credential = /^Bearer (\S+)$/.exec(authorization ?? "")?.[1];
    if (credential === undefined) {
      return "none";
    }
    const token = this.#tokens.get(credential);
    if (token !== undefined) {
      return Date.now() < token.expiresAt ? { installationId: token.installationId } : "none";
    }
    return (await this.#isAppJwt(credential)) ? "app" : "none";
  }

  /** An RS256 JWT signed by the App's key, from the App, valid now, for at most 10 minutes (as GitHub checks it). */
  async #isAppJwt(jwt: string): Promise<boolean> {
    const parts = jwt.split(".");
    if (parts.length !== 3) {
      return false;
    }
    const [header, payload, signature] = parts.map(base64UrlBytes);
    if (header === null || payload === null || signature === null) {
      return false;
    }
    const signed = new TextEncoder().encode(`${parts[0]}.${parts[1]}`);
    if (!(await crypto.subtle.verify("RSASSA-PKCS1-v1_5", await this.#publicKey, signature, signed))) {
      return false;
    }
    try {
      const { alg } = JSON.parse(new TextDecoder().decode(header)) as { alg?: unknown };
      const { iss, iat, exp } = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
      const now = Date.now() / 1000;
      return (
        alg === "RS256" &&
        String(iss) === String(this.#options.appId) &&
        typeof iat === "number" &&
        typeof exp === "number" &&
        iat <= now + 60 &&
        exp > now &&
        exp - iat <= JWT_MAX_LIFETIME_S &&
        exp <= now + JWT_MAX_LIFETIME_S
      );
    } catch {
      return false;
    }
  }

  #route(request: FakeGithubRequest): Answer {
    for (const route of this.#routes) {
      const found = route.method === request.method ? route.pattern.exec(request.path) : null;
      if (found === null) {
        continue;
      }
      if (route.auth === "app" && request.auth !== "app") {
        return json(401, { message: "A JSON web token could not be decoded", documentation_url: "https://docs.github.com/rest" });
      }
      if (route.auth === "installation" && (typeof request.auth !== "object" || !this.#reaches(request.auth.installationId, found[1]))) {
        return request.auth === "none" ? json(401, { message: "Bad credentials", documentation_url: "https://docs.github.com/rest" }) : notFound();
      }
      return route.handle(request, found.slice(1));
    }
    return notFound();
  }

  #reaches(installationId: number, repository: string): boolean {
    const reached = this.#options.installations?.[installationId];
    return reached === undefined ? this.#options.installations === undefined : reached.some((name) => name.toLowerCase() === repository.toLowerCase());
  }

  #id(): number {
    const id = this.#nextId;
    this.#nextId += 1;
    return id;
  }

  #react(subject: FakeReaction["subject"], repository: string, subjectId: number, body: unknown): Answer {
    const content = (body as { content?: unknown } | null)?.content;
    if (typeof content !== "string" || !REACTIONS.has(content)) {
      return validationFailed("Reaction", "content", "content is not included in the list");
    }
    const existing = this.reactions.find(
      (reaction) => reaction.subject === subject && reaction.repository === repository && reaction.subjectId === subjectId && reaction.content === content,
    );
    if (existing !== undefined) {
      return json(200, existing);
    }
    const reaction: FakeReaction = { id: this.#id(), subject, repository, subjectId, content };
    this.reactions.push(reaction);
    return json(201, reaction);
  }

  readonly #routes: Route[] = [
    {
      method: "POST",
      pattern: /^\/app\/installations\/(\d+)\/access_tokens$/,
      auth: "app",
      handle: (_request, [id]) => {
        const installationId = Number(id);
        if (this.#options.installations !== undefined && this.#options.installations[installationId] === undefined) {
          return notFound();
        }
        const token = randomToken();
        const expiresAt = Date.now() + (this.#options.tokenLifetimeMs ?? 60 * 60_000);
        this.#tokens.set(token, { installationId, expiresAt });
        this.issuedTokens.push(token);
        this.tokensIssued.set(installationId, (this.tokensIssued.get(installationId) ?? 0) + 1);
        return json(201, {
          token,
          expires_at: isoSeconds(expiresAt),
          permissions: { checks: "write", issues: "write", metadata: "read", pull_requests: "write" },
          repository_selection: "all",
        });
      },
    },
    {
      method: "POST",
      pattern: /^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)\/comments$/,
      auth: "installation",
      handle: (request, [repository, number]) => {
        const text = (request.body as { body?: unknown } | null)?.body;
        if (typeof text !== "string" || text.length === 0) {
          return validationFailed("IssueComment", "body", "body can't be blank");
        }
        if (text.length > MAX_COMMENT_CHARS) {
          return validationFailed("IssueComment", "body", `body is too long (maximum is ${MAX_COMMENT_CHARS} characters)`);
        }
        const now = isoSeconds(Date.now());
        const comment: FakeComment = {
          id: this.#id(),
          repository,
          number: Number(number),
          body: text,
          user: { login: `${this.#options.appSlug ?? "app"}[bot]`, type: "Bot" },
          created_at: now,
          updated_at: now,
        };
        this.comments.push(comment);
        return json(201, { ...comment, html_url: `https://github.com/${repository}/issues/${number}#issuecomment-${comment.id}`, author_association: "NONE" });
      },
    },
    {
      method: "GET",
      pattern: /^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)\/comments$/,
      auth: "installation",
      handle: (request, [repository, number]) => {
        const since = request.query.since === undefined ? 0 : Date.parse(request.query.since);
        const perPage = Math.min(Number(request.query.per_page ?? 30), 100);
        const page = Math.max(Number(request.query.page ?? 1), 1);
        const found = this.comments.filter(
          (comment) => comment.repository === repository && comment.number === Number(number) && Date.parse(comment.updated_at) >= since,
        );
        return json(200, found.slice((page - 1) * perPage, page * perPage));
      },
    },
    {
      method: "POST",
      pattern: /^\/repos\/([^/]+\/[^/]+)\/issues\/comments\/(\d+)\/reactions$/,
      auth: "installation",
      handle: (request, [repository, id]) => this.#react("issue_comment", repository, Number(id), request.body),
    },
    {
      method: "POST",
      pattern: /^\/repos\/([^/]+\/[^/]+)\/pulls\/comments\/(\d+)\/reactions$/,
      auth: "installation",
      handle: (request, [repository, id]) => this.#react("review_comment", repository, Number(id), request.body),
    },
    {
      method: "POST",
      pattern: /^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)\/reactions$/,
      auth: "installation",
      handle: (request, [repository, number]) => this.#react("issue", repository, Number(number), request.body),
    },
    {
      method: "POST",
      pattern: /^\/repos\/([^/]+\/[^/]+)\/check-runs$/,
      auth: "installation",
      handle: (request, [repository]) => {
        const fields = (request.body ?? {}) as Record<string, unknown>;
        if (typeof fields.name !== "string" || fields.name.length === 0) {
          return validationFailed("CheckRun", "name", "name can't be blank");
        }
        if (typeof fields.head_sha !== "string" || !/^[0-9a-f]{40}$/i.test(fields.head_sha)) {
          return validationFailed("CheckRun", "head_sha", "head_sha is not a commit SHA");
        }
        const checkRun: FakeCheckRun = { ...fields, id: this.#id(), repository, status: fields.status ?? "queued" };
        this.checkRuns.push(checkRun);
        return json(201, checkRun);
      },
    },
    {
      method: "PATCH",
      pattern: /^\/repos\/([^/]+\/[^/]+)\/check-runs\/(\d+)$/,
      auth: "installation",
      handle: (request, [repository, id]) => {
        const checkRun = this.checkRuns.find((run) => run.id === Number(id) && run.repository === repository);
        if (checkRun === undefined) {
          return notFound();
        }
        Object.assign(checkRun, request.body ?? {}, { id: checkRun.id, repository });
        return json(200, checkRun);
      },
    },
    {
      method: "GET",
      pattern: /^\/app\/hook\/deliveries$/,
      auth: "app",
      handle: (request) => {
        const perPage = Math.min(Number(request.query.per_page ?? 30), 100);
        const newestFirst = [...this.hookDeliveries].reverse();
        const start = request.query.cursor === undefined ? 0 : Number(request.query.cursor);
        const page = newestFirst.slice(start, start + perPage);
        const next = start + perPage < newestFirst.length ? start + perPage : null;
        const headers: Record<string, string> =
          next === null ? {} : { link: `<${this.baseUrl}/app/hook/deliveries?per_page=${perPage}&cursor=${next}>; rel="next"` };
        return json(200, page, headers);
      },
    },
    {
      method: "POST",
      pattern: /^\/app\/hook\/deliveries\/(\d+)\/attempts$/,
      auth: "app",
      handle: (_request, [id]) => {
        if (!this.hookDeliveries.some((delivery) => delivery.id === Number(id))) {
          return notFound();
        }
        this.redeliveries.push(Number(id));
        return json(202, {});
      },
    },
  ];
}
