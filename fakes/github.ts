/**
 * A fake of GitHub's REST API, as far as the GitHub App uses it: installation
 * tokens, issue comments (posted and listed), reactions on comments and
 * issues, check runs, and the App's hook deliveries and their redelivery. It
 * checks what GitHub checks (the App JWT against the App's public key,
 * tokens and their expiry, the repositories an installation reaches, the
 * fields GitHub validates), keeps what was made, and answers as GitHub
 * does, or as scripted. Every request is in `calls`; one GitHub would refuse
 * is also in `violations`.
 *
 * ```ts
 * import { FakeGitHub } from "../fakes/github";
 *
 * const github = new FakeGitHub({ appId: 1234, publicKeyPem, appSlug: "jangar" });   // https://api.github.test
 * vi.stubGlobal("fetch", github.fetch);
 * github.answerNext({ status: 502 });                                  // the next request, whatever it is
 * github.answerFor("POST /repos/", { status: 429, retryAfter: "30" }, "hang");  // the next ones to that path
 * github.answerFor("POST /repos/", { status: 400, echo: true });       // GitHub's answer quotes the request
 * // ... run the code under test, then:
 * expect(github.comments.map((comment) => comment.body)).toEqual([...]);
 * expect(github.reactions).toMatchObject([{ subject: "issue_comment", subjectId: 42, content: "eyes" }]);
 * expect(github.violations).toEqual([]);
 *
 * const { url, close } = await github.serve(4112);   // http://127.0.0.1:4112, for GITHUB_API_URL
 * ```
 */
import { FakeService, type FakeRequest, type RecordedCall, type ScriptedAnswer } from "./http";

export const FAKE_GITHUB_URL = "https://api.github.test";

/**
 * How GitHub answers one request: normally, as scripted (fakes/http.ts), or
 * `{ status, echo: true }`: that status with an error body that quotes the
 * request, its headers included (as some proxies and GitHub's own
 * validation errors do), to check that no secret is kept from an answer;
 * `{ status, posted: true }`: the request is carried out, and its answer
 * lost on the way back as that status (a 502 from a proxy).
 */
export type GithubAnswer =
  | ScriptedAnswer
  | { status: number; echo: true; headers?: Record<string, string> }
  | { status: number; posted: true };

/** Who the credentials say is asking: the App (its JWT), an installation (a token), or nobody GitHub knows. */
export type GithubAuth = "app" | { installationId: number } | "none";

/** One request: method, path, query, who asked, the JSON body, every header as sent, and GitHub's status. */
export type GithubCall = RecordedCall<GithubAnswer | "normal"> & {
  method: string;
  path: string;
  query: Record<string, string>;
  auth: GithubAuth;
  body: unknown;
  headers: Record<string, string>;
  status: number | "hang" | "network";
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
  /** The installations and the repositories (`owner/repo`) each reaches; when absent, any installation reaches any repository. */
  installations?: Record<number, readonly string[]>;
};

const REACTIONS = new Set(["+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"]);
const MAX_COMMENT_CHARS = 65_536;
const JWT_MAX_LIFETIME_S = 600;
const DOCS = "https://docs.github.com/rest";

type Answer = { status: number; body: unknown; headers?: Record<string, string> };
type Handler = (request: GithubRequest, params: string[]) => Answer;
type Route = { method: string; pattern: RegExp; auth: "app" | "installation"; handle: Handler };
type GithubRequest = Omit<GithubCall, "at" | "answer" | "status">;

const json = (status: number, body: unknown, headers?: Record<string, string>): Answer => ({ status, body, headers });
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

export class FakeGitHub extends FakeService<GithubAnswer, GithubCall> {
  readonly comments: FakeComment[] = [];
  readonly reactions: FakeReaction[] = [];
  readonly checkRuns: FakeCheckRun[] = [];
  /** The App's hook deliveries, oldest first; tests add those GitHub would list. */
  readonly hookDeliveries: FakeHookDelivery[] = [];
  /** The ids of hook deliveries the App asked to redeliver, in order. */
  readonly redeliveries: number[] = [];
  /** How many installation tokens were issued, by installation. */
  readonly tokensIssued = new Map<number, number>();
  /** The tokens issued, in order (for tests that look for them where they must not be). */
  readonly issuedTokens: string[] = [];

  private readonly options: FakeGithubOptions;
  private readonly publicKey: Promise<CryptoKey>;
  private readonly tokens = new Map<string, { installationId: number; expiresAt: number }>();
  private readonly routed: { match: string; answer: GithubAnswer }[] = [];
  private nextId = 2_000_000_001;

  constructor(options: FakeGithubOptions) {
    super((options.baseUrl ?? FAKE_GITHUB_URL).replace(/\/+$/, ""));
    this.options = options;
    this.publicKey = crypto.subtle.importKey("spki", derOfPem(options.publicKeyPem), { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, [
      "verify",
    ]);
  }

  /**
   * The next requests whose `METHOD /path` starts with `match` are answered
   * so, one each (ahead of `answerNext`): for the request after an
   * installation token the client buys on its own.
   */
  answerFor(match: string, ...answers: GithubAnswer[]): void {
    this.routed.push(...answers.map((answer) => ({ match, answer })));
  }

  /** The requests to one path pattern (`/repos/acme/api/issues/7/comments`), by method, in order. */
  callsTo(method: string, path: RegExp): GithubCall[] {
    return this.calls.filter((call) => call.method === method && path.test(call.path));
  }

  protected async receive(raw: FakeRequest): Promise<Response> {
    let body: unknown;
    try {
      body = raw.body.length === 0 ? null : JSON.parse(raw.body);
    } catch {
      body = raw.body;
    }
    const request: GithubRequest = {
      method: raw.method,
      path: raw.path,
      query: Object.fromEntries(raw.url.searchParams),
      auth: await this.authOf(raw.headers.get("authorization")),
      body,
      headers: Object.fromEntries(raw.headers),
    };
    const line = `${request.method} ${request.path}`;
    const routed = this.routed.findIndex(({ match }) => line.startsWith(match));
    const scripted = routed >= 0 ? this.routed.splice(routed, 1)[0].answer : this.nextAnswer();
    if (scripted === undefined) {
      const answer = this.route(request);
      this.record({ ...request, at: Date.now(), answer: "normal", status: answer.status });
      return this.respond(answer);
    }
    const status = scripted === "hang" || scripted === "network" ? scripted : scripted.status;
    this.record({ ...request, at: Date.now(), answer: scripted, status });
    if (typeof scripted === "object" && "posted" in scripted) {
      this.route(request);
      return this.respond(json(scripted.status, { message: "Server Error" }));
    }
    if (typeof scripted === "object" && "echo" in scripted) {
      return this.respond(json(scripted.status, { message: `Problems parsing ${JSON.stringify(request.headers)} ${raw.body}`, documentation_url: DOCS }, scripted.headers));
    }
    const response = await this.answerWith(scripted, raw.signal, new URL(this.baseUrl).host);
    response.headers.set("x-github-request-id", this.requestId());
    return response;
  }

  /** GitHub's `x-github-request-id`, one per request answered. */
  private requestId(): string {
    return `FAKE:${String(this.calls.length).padStart(6, "0")}`;
  }

  /** GitHub's answer to a request it cannot take: the status it gives, and a violation recorded. */
  private refused(request: GithubRequest, problem: string, answer: Answer): Answer {
    this.violations.push(`${request.method} ${request.path}: ${problem}`);
    this.onCall?.({ violation: problem });
    return answer;
  }

  private respond(answer: Answer): Response {
    const headers = {
      "content-type": "application/json; charset=utf-8",
      "x-github-request-id": this.requestId(),
      ...answer.headers,
    };
    const empty = answer.status === 204 || answer.status === 304;
    return new Response(empty ? null : JSON.stringify(answer.body), { status: answer.status, headers });
  }

  /** Who the Authorization header says is asking, when its JWT or token holds. */
  private async authOf(authorization: string | null): Promise<GithubAuth> {
    const credential = /^Bearer (\S+)$/.exec(authorization ?? "")?.[1];
    if (credential === undefined) {
      return "none";
    }
    const token = this.tokens.get(credential);
    if (token !== undefined) {
      return Date.now() < token.expiresAt ? { installationId: token.installationId } : "none";
    }
    return (await this.isAppJwt(credential)) ? "app" : "none";
  }

  /** An RS256 JWT signed by the App's key, from the App, valid now, for at most 10 minutes (as GitHub checks it). */
  private async isAppJwt(jwt: string): Promise<boolean> {
    const parts = jwt.split(".");
    const [header, payload, signature] = parts.length === 3 ? parts.map(base64UrlBytes) : [null, null, null];
    if (header === null || payload === null || signature === null) {
      return false;
    }
    const signed = new TextEncoder().encode(`${parts[0]}.${parts[1]}`);
    if (!(await crypto.subtle.verify("RSASSA-PKCS1-v1_5", await this.publicKey, signature, signed))) {
      return false;
    }
    try {
      const { alg } = JSON.parse(new TextDecoder().decode(header)) as { alg?: unknown };
      const { iss, iat, exp } = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
      const now = Date.now() / 1000;
      return (
        alg === "RS256" &&
        String(iss) === String(this.options.appId) &&
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

  private route(request: GithubRequest): Answer {
    for (const route of this.routes) {
      const found = route.method === request.method ? route.pattern.exec(request.path) : null;
      if (found === null) {
        continue;
      }
      if (route.auth === "app" && request.auth !== "app") {
        return this.refused(request, "not the App's JWT", json(401, { message: "A JSON web token could not be decoded", documentation_url: DOCS }));
      }
      if (route.auth === "installation" && typeof request.auth !== "object") {
        return this.refused(request, "no installation token", json(401, { message: "Bad credentials", documentation_url: DOCS }));
      }
      if (route.auth === "installation" && typeof request.auth === "object" && !this.reaches(request.auth.installationId, found[1])) {
        return this.refused(request, `installation ${request.auth.installationId} does not reach ${found[1]}`, json(404, { message: "Not Found", documentation_url: DOCS }));
      }
      return route.handle(request, found.slice(1));
    }
    return this.refused(request, "no such endpoint", json(404, { message: "Not Found", documentation_url: DOCS }));
  }

  private reaches(installationId: number, repository: string): boolean {
    const reached = this.options.installations?.[installationId];
    return reached === undefined ? this.options.installations === undefined : reached.some((name) => name.toLowerCase() === repository.toLowerCase());
  }

  private id(): number {
    this.nextId += 1;
    return this.nextId - 1;
  }

  private invalid(request: GithubRequest, resource: string, field: string, message: string): Answer {
    return this.refused(request, message, json(422, { message: "Validation Failed", errors: [{ resource, code: "custom", field, message }], documentation_url: DOCS }));
  }

  private react(request: GithubRequest, subject: FakeReaction["subject"], repository: string, subjectId: number): Answer {
    const content = (request.body as { content?: unknown } | null)?.content;
    if (typeof content !== "string" || !REACTIONS.has(content)) {
      return this.invalid(request, "Reaction", "content", "content is not included in the list");
    }
    const existing = this.reactions.find(
      (reaction) => reaction.subject === subject && reaction.repository === repository && reaction.subjectId === subjectId && reaction.content === content,
    );
    if (existing !== undefined) {
      return json(200, existing);
    }
    const reaction: FakeReaction = { id: this.id(), subject, repository, subjectId, content };
    this.reactions.push(reaction);
    return json(201, reaction);
  }

  private readonly issueToken: Handler = (request, [id]) => {
    const installationId = Number(id);
    if (this.options.installations !== undefined && this.options.installations[installationId] === undefined) {
      return this.refused(request, `no installation ${installationId}`, json(404, { message: "Not Found", documentation_url: DOCS }));
    }
    const token = randomToken();
    const expiresAt = Date.now() + (this.options.tokenLifetimeMs ?? 60 * 60_000);
    this.tokens.set(token, { installationId, expiresAt });
    this.issuedTokens.push(token);
    this.tokensIssued.set(installationId, (this.tokensIssued.get(installationId) ?? 0) + 1);
    return json(201, {
      token,
      expires_at: isoSeconds(expiresAt),
      permissions: { checks: "write", issues: "write", metadata: "read", pull_requests: "write" },
      repository_selection: "all",
    });
  };

  private readonly postComment: Handler = (request, [repository, number]) => {
    const text = (request.body as { body?: unknown } | null)?.body;
    if (typeof text !== "string" || text.length === 0) {
      return this.invalid(request, "IssueComment", "body", "body can't be blank");
    }
    if (text.length > MAX_COMMENT_CHARS) {
      return this.invalid(request, "IssueComment", "body", `body is too long (maximum is ${MAX_COMMENT_CHARS} characters)`);
    }
    const now = isoSeconds(Date.now());
    const comment: FakeComment = {
      id: this.id(),
      repository,
      number: Number(number),
      body: text,
      user: { login: `${this.options.appSlug ?? "app"}[bot]`, type: "Bot" },
      created_at: now,
      updated_at: now,
    };
    this.comments.push(comment);
    return json(201, { ...comment, html_url: `https://github.com/${repository}/issues/${number}#issuecomment-${comment.id}`, author_association: "NONE" });
  };

  private readonly listComments: Handler = (request, [repository, number]) => {
    const since = request.query.since === undefined ? 0 : Date.parse(request.query.since);
    const perPage = Math.min(Number(request.query.per_page ?? 30), 100);
    const page = Math.max(Number(request.query.page ?? 1), 1);
    const found = this.comments.filter(
      (comment) => comment.repository === repository && comment.number === Number(number) && Date.parse(comment.updated_at) >= since,
    );
    return json(200, found.slice((page - 1) * perPage, page * perPage));
  };

  private readonly createCheckRun: Handler = (request, [repository]) => {
    const fields = (request.body ?? {}) as Record<string, unknown>;
    if (typeof fields.name !== "string" || fields.name.length === 0) {
      return this.invalid(request, "CheckRun", "name", "name can't be blank");
    }
    if (typeof fields.head_sha !== "string" || !/^[0-9a-f]{40}$/i.test(fields.head_sha)) {
      return this.invalid(request, "CheckRun", "head_sha", "head_sha is not a commit SHA");
    }
    const checkRun: FakeCheckRun = { ...fields, id: this.id(), repository, status: fields.status ?? "queued" };
    this.checkRuns.push(checkRun);
    return json(201, checkRun);
  };

  private readonly updateCheckRun: Handler = (request, [repository, id]) => {
    const checkRun = this.checkRuns.find((run) => run.id === Number(id) && run.repository === repository);
    if (checkRun === undefined) {
      return this.refused(request, `no check run ${id}`, json(404, { message: "Not Found", documentation_url: DOCS }));
    }
    Object.assign(checkRun, request.body ?? {}, { id: checkRun.id, repository });
    return json(200, checkRun);
  };

  private readonly listHookDeliveries: Handler = (request) => {
    const perPage = Math.min(Number(request.query.per_page ?? 30), 100);
    const newestFirst = [...this.hookDeliveries].reverse();
    const start = request.query.cursor === undefined ? 0 : Number(request.query.cursor);
    const next = start + perPage < newestFirst.length ? start + perPage : null;
    const link: Record<string, string> = next === null ? {} : { link: `<${this.baseUrl}/app/hook/deliveries?per_page=${perPage}&cursor=${next}>; rel="next"` };
    return json(200, newestFirst.slice(start, start + perPage), link);
  };

  private readonly redeliver: Handler = (request, [id]) => {
    if (!this.hookDeliveries.some((delivery) => delivery.id === Number(id))) {
      return this.refused(request, `no hook delivery ${id}`, json(404, { message: "Not Found", documentation_url: DOCS }));
    }
    this.redeliveries.push(Number(id));
    return json(202, {});
  };

  private readonly routes: Route[] = [
    { method: "POST", pattern: /^\/app\/installations\/(\d+)\/access_tokens$/, auth: "app", handle: this.issueToken },
    { method: "POST", pattern: /^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)\/comments$/, auth: "installation", handle: this.postComment },
    { method: "GET", pattern: /^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)\/comments$/, auth: "installation", handle: this.listComments },
    {
      method: "POST",
      pattern: /^\/repos\/([^/]+\/[^/]+)\/issues\/comments\/(\d+)\/reactions$/,
      auth: "installation",
      handle: (request, [repository, id]) => this.react(request, "issue_comment", repository, Number(id)),
    },
    {
      method: "POST",
      pattern: /^\/repos\/([^/]+\/[^/]+)\/pulls\/comments\/(\d+)\/reactions$/,
      auth: "installation",
      handle: (request, [repository, id]) => this.react(request, "review_comment", repository, Number(id)),
    },
    {
      method: "POST",
      pattern: /^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)\/reactions$/,
      auth: "installation",
      handle: (request, [repository, number]) => this.react(request, "issue", repository, Number(number)),
    },
    { method: "POST", pattern: /^\/repos\/([^/]+\/[^/]+)\/check-runs$/, auth: "installation", handle: this.createCheckRun },
    { method: "PATCH", pattern: /^\/repos\/([^/]+\/[^/]+)\/check-runs\/(\d+)$/, auth: "installation", handle: this.updateCheckRun },
    { method: "GET", pattern: /^\/app\/hook\/deliveries$/, auth: "app", handle: this.listHookDeliveries },
    { method: "POST", pattern: /^\/app\/hook\/deliveries\/(\d+)\/attempts$/, auth: "app", handle: this.redeliver },
  ];
}
