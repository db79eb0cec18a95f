/**
 * A fake of GitHub's REST API, as far as the GitHub App uses it: installation
 * tokens, issue comments (posted and listed), reactions on comments and
 * issues, check runs (made, edited, and listed by commit), and the App's hook deliveries and their redelivery. It
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
import { FakeService, type FakeRequest } from "./http";
import { DOCS, githubResponse, isoSeconds, json, notFound, validationFailed, type Answer } from "./githubAnswers";
import { FakeAppAuth } from "./githubAppAuth";
import type { FakeCheckRun, FakeComment, FakeGithubOptions, FakeHookDelivery, FakeReaction, GithubAnswer, GithubCall } from "./githubTypes";

export type { FakeCheckRun, FakeComment, FakeGithubOptions, FakeHookDelivery, FakeReaction, GithubAnswer, GithubAuth, GithubCall } from "./githubTypes";

export const FAKE_GITHUB_URL = "https://api.github.test";

const REACTIONS = new Set(["+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"]);
const MAX_COMMENT_CHARS = 65_536;
const CHECK_RUN_STATUSES = new Set(["queued", "in_progress", "completed"]);
type Handler = (request: GithubRequest, params: string[]) => Answer;
type Route = { method: string; pattern: RegExp; auth: "app" | "installation"; handle: Handler };
type GithubRequest = Omit<GithubCall, "at" | "answer" | "status">;

export class FakeGitHub extends FakeService<GithubAnswer, GithubCall> {
  readonly comments: FakeComment[] = [];
  readonly reactions: FakeReaction[] = [];
  readonly checkRuns: FakeCheckRun[] = [];
  /** The App's hook deliveries, oldest first; tests add those GitHub would list. */
  readonly hookDeliveries: FakeHookDelivery[] = [];
  /** The ids of hook deliveries the App asked to redeliver, in order. */
  readonly redeliveries: number[] = [];
  /** How many installation tokens were issued, by installation. */
  readonly tokensIssued: Map<number, number>;
  /** The tokens issued, in order (for tests that look for them where they must not be). */
  readonly issuedTokens: string[];

  private readonly options: FakeGithubOptions;
  private readonly auth: FakeAppAuth;
  private readonly routed: { match: string; answer: GithubAnswer }[] = [];
  private nextId = 2_000_000_001;

  constructor(options: FakeGithubOptions) {
    super((options.baseUrl ?? FAKE_GITHUB_URL).replace(/\/+$/, ""));
    this.options = options;
    this.auth = new FakeAppAuth(options);
    this.tokensIssued = this.auth.tokensIssued;
    this.issuedTokens = this.auth.issuedTokens;
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
      auth: await this.auth.authOf(raw.headers.get("authorization")),
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
    return githubResponse(answer, this.requestId());
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
      if (route.auth === "installation" && typeof request.auth === "object" && !this.auth.reaches(request.auth.installationId, found[1])) {
        return this.refused(request, `installation ${request.auth.installationId} does not reach ${found[1]}`, notFound());
      }
      return route.handle(request, found.slice(1));
    }
    return this.refused(request, "no such endpoint", notFound());
  }

  private id(): number {
    this.nextId += 1;
    return this.nextId - 1;
  }

  private invalid(request: GithubRequest, resource: string, field: string, message: string): Answer {
    return this.refused(request, message, validationFailed(resource, field, message));
  }

  /** The handler of reactions to one kind of subject: the path holds its repository, then its id (a comment) or number (an issue). */
  private reactionsTo(subject: FakeReaction["subject"]): Handler {
    return (request, [repository, id]) => this.react(request, subject, repository, Number(id));
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
    if (!this.auth.knows(installationId)) {
      return this.refused(request, `no installation ${installationId}`, notFound());
    }
    const { token, expiresAt } = this.auth.issue(installationId);
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
      return this.refused(request, `no check run ${id}`, notFound());
    }
    Object.assign(checkRun, request.body ?? {}, { id: checkRun.id, repository });
    return json(200, checkRun);
  };

  /** A commit's check runs, newest first, as GitHub filters them; every one here is the App's own. The fake knows commits by SHA only. */
  private readonly listCheckRuns: Handler = (request, [repository, ref]) => {
    const { check_name: name, status, filter = "latest", app_id: appId } = request.query;
    if (!/^[0-9a-f]{40}$/i.test(ref)) {
      return this.refused(request, `no commit ${ref}`, json(422, { message: `No commit found for SHA: ${ref}`, documentation_url: DOCS }));
    }
    if (filter !== "latest" && filter !== "all") {
      return this.invalid(request, "CheckRun", "filter", "filter is not included in the list");
    }
    if (status !== undefined && !CHECK_RUN_STATUSES.has(status)) {
      return this.invalid(request, "CheckRun", "status", "status is not included in the list");
    }
    const app = { id: Number(this.options.appId), slug: this.options.appSlug ?? "app" };
    const onCommit = this.checkRuns
      .filter((run) => run.repository === repository && run.head_sha === ref && (appId === undefined || Number(appId) === app.id))
      .filter((run) => (name === undefined || run.name === name) && (status === undefined || run.status === status))
      .reverse();
    // `latest`: the newest run of each name only.
    const found = filter === "all" ? onCommit : onCommit.filter((run, index) => onCommit.findIndex((other) => other.name === run.name) === index);
    const perPage = Math.min(Number(request.query.per_page ?? 30), 100);
    const page = Math.max(Number(request.query.page ?? 1), 1);
    const runs = found.slice((page - 1) * perPage, page * perPage).map(({ repository: _repository, ...run }) => ({ ...run, app }));
    return json(200, { total_count: found.length, check_runs: runs });
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
      return this.refused(request, `no hook delivery ${id}`, notFound());
    }
    this.redeliveries.push(Number(id));
    return json(202, {});
  };

  private readonly routes: Route[] = [
    { method: "POST", pattern: /^\/app\/installations\/(\d+)\/access_tokens$/, auth: "app", handle: this.issueToken },
    { method: "POST", pattern: /^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)\/comments$/, auth: "installation", handle: this.postComment },
    { method: "GET", pattern: /^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)\/comments$/, auth: "installation", handle: this.listComments },
    { method: "POST", pattern: /^\/repos\/([^/]+\/[^/]+)\/issues\/comments\/(\d+)\/reactions$/, auth: "installation", handle: this.reactionsTo("issue_comment") },
    { method: "POST", pattern: /^\/repos\/([^/]+\/[^/]+)\/pulls\/comments\/(\d+)\/reactions$/, auth: "installation", handle: this.reactionsTo("review_comment") },
    { method: "POST", pattern: /^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)\/reactions$/, auth: "installation", handle: this.reactionsTo("issue") },
    { method: "POST", pattern: /^\/repos\/([^/]+\/[^/]+)\/check-runs$/, auth: "installation", handle: this.createCheckRun },
    { method: "PATCH", pattern: /^\/repos\/([^/]+\/[^/]+)\/check-runs\/(\d+)$/, auth: "installation", handle: this.updateCheckRun },
    { method: "GET", pattern: /^\/repos\/([^/]+\/[^/]+)\/commits\/([^/]+)\/check-runs$/, auth: "installation", handle: this.listCheckRuns },
    { method: "GET", pattern: /^\/app\/hook\/deliveries$/, auth: "app", handle: this.listHookDeliveries },
    { method: "POST", pattern: /^\/app\/hook\/deliveries\/(\d+)\/attempts$/, auth: "app", handle: this.redeliver },
  ];
}
