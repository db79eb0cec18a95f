import githubAppJwt from "universal-github-app-jwt";
import { excerpt, type Secrets } from "../secrets";
import { readAnswer, type GithubAnswer } from "./answers";
import type { GithubAppSettings } from "./settings";

/**
 * The GitHub App as a client of GitHub's REST API (docs/contract.md#github-both-ways-the-app-comments-in-replies-and-check-runs-out):
 * an App JWT for the App's own endpoints (its hook deliveries), an
 * installation token for a repository's (comments, reactions, check runs).
 * It runs wherever `fetch` and Web Crypto do: Convex's default runtime,
 * Node, the tests' edge runtime. It never logs, and no answer it returns
 * holds the key, a JWT or a token, nor any 8 characters of one (each
 * answer kept is masked of them by src/secrets.ts before it is cut).
 *
 *     const app = githubApp(settings); // per isolate: its tokens are reused
 *     const answer = await app.request({
 *       method: "POST",
 *       path: "/repos/acme/api/issues/7/comments",
 *       body: { body: "Done." },
 *       auth: { installationId: 42 },
 *     });
 *     if (answer.kind === "ok") ...; else if (answer.kind === "retry") ...; // failed: for good
 *
 * Tokens live in this object, in memory, and nowhere else: a row would be
 * readable from the dashboard. An action's module state may or may not
 * survive until its next run, so a missing token is simply bought again.
 */

/** Who a request is made as: the App itself (its JWT), or one of its installations (a token bought with the JWT). */
export type GithubAuth = "app" | { installationId: number };

export type GithubRequest = {
  method: "GET" | "POST" | "PATCH";
  /** The path under the API's root, query included: `/repos/acme/api/issues/7/comments`. */
  path: `/${string}`;
  /** Sent as JSON. */
  body?: unknown;
  auth: GithubAuth;
};

export type { GithubAnswer } from "./answers";

/** An installation token is reused until this long before it expires (GitHub's last 5 minutes are left alone). */
export const TOKEN_RENEWAL_MS = 5 * 60_000;
/** The App JWT: issued 60 s in the past (clock drift), valid 10 minutes from then (GitHub's most), renewed a minute before. */
const JWT_BACKDATE_S = 60;
const JWT_RENEWAL_MS = 60_000;
const API_VERSION = "2022-11-28";
export const USER_AGENT = "jangar-persistence";
const DEFAULT_TIMEOUT_MS = 10_000;

type Credential = { secret: string; renewAt: number };

/** What a token purchase answered, other than a token. */
type NoToken = Exclude<GithubAnswer, { kind: "ok" }>;

export class GithubApp {
  readonly #settings: GithubAppSettings;
  readonly #timeoutMs: number;
  readonly #keyBody: string;
  #jwt: Credential | null = null;
  readonly #tokens = new Map<number, Credential>();

  constructor(settings: GithubAppSettings, options: { timeoutMs?: number } = {}) {
    this.#settings = settings;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#keyBody = settings.privateKeyPem.replace(/-----[A-Z ]+-----|\s/g, "");
  }

  /** Every secret this client holds, by name: what an answer it keeps is masked of (src/secrets.ts). */
  #secrets(): Secrets {
    const secrets: Record<string, string | undefined> = { GITHUB_APP_PRIVATE_KEY: this.#keyBody, GITHUB_APP_JWT: this.#jwt?.secret };
    for (const [installationId, token] of this.#tokens) {
      secrets[`GITHUB_INSTALLATION_TOKEN_${installationId}`] = token.secret;
    }
    return secrets;
  }

  /**
   * Makes one request, buying the installation's token first when it has
   * none still good for 5 minutes. A token GitHub no longer takes (401) is
   * dropped and bought again, once.
   */
  async request(request: GithubRequest, fetchImpl: typeof fetch = globalThis.fetch): Promise<GithubAnswer> {
    if (request.auth === "app") {
      const jwt = await this.#appJwt();
      return typeof jwt === "string" ? await this.#exchange(request, jwt, fetchImpl) : jwt;
    }
    const { installationId } = request.auth;
    const cached = this.#tokens.get(installationId);
    if (cached !== undefined && Date.now() < cached.renewAt) {
      const answer = await this.#exchange(request, cached.secret, fetchImpl);
      if (answer.kind !== "failed" || answer.status !== 401) {
        return answer;
      }
      this.#tokens.delete(installationId);
    }
    const token = await this.#buyToken(installationId, fetchImpl);
    return typeof token === "string" ? await this.#exchange(request, token, fetchImpl) : token;
  }

  /** Forgets the tokens bought so far: the next request buys a fresh one. */
  forgetTokens(): void {
    this.#tokens.clear();
  }

  /** The App JWT (RS256 over the App's key): reused until a minute before it expires. */
  async #appJwt(): Promise<string | NoToken> {
    if (this.#jwt !== null && Date.now() < this.#jwt.renewAt) {
      return this.#jwt.secret;
    }
    const issuedAt = Math.floor(Date.now() / 1000) - JWT_BACKDATE_S;
    try {
      // The library backdates `iat` by 30 s from `now` and sets `exp` 10 minutes after `iat`.
      const { token, expiration } = await githubAppJwt({ id: this.#settings.appId, privateKey: this.#settings.privateKeyPem, now: issuedAt + 30 });
      this.#jwt = { secret: token, renewAt: expiration * 1000 - JWT_RENEWAL_MS };
      return token;
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      return { kind: "failed", error: excerpt(`GITHUB_APP_PRIVATE_KEY could not sign the App JWT: ${why}`, 300, this.#secrets()) };
    }
  }

  /** Buys an installation token (POST /app/installations/{id}/access_tokens, as the App) and keeps it. */
  async #buyToken(installationId: number, fetchImpl: typeof fetch): Promise<string | NoToken> {
    const answer = await this.request({ method: "POST", path: `/app/installations/${installationId}/access_tokens`, auth: "app" }, fetchImpl);
    if (answer.kind !== "ok") {
      // The request it was bought for was not sent: whatever went wrong, GitHub did not act on it.
      const error = `Buying a token for installation ${installationId}: ${answer.error}`;
      if (answer.kind === "failed") {
        return { ...answer, error };
      }
      return answer.retryAfterMs === undefined ? { kind: "retry", error } : { kind: "retry", error, retryAfterMs: answer.retryAfterMs };
    }
    const { token, expires_at: expiresAt } = (answer.body ?? {}) as { token?: unknown; expires_at?: unknown };
    const expiresMs = typeof expiresAt === "string" ? Date.parse(expiresAt) : NaN;
    if (typeof token !== "string" || token.length === 0 || token.length > 1024 || !Number.isFinite(expiresMs)) {
      return { kind: "retry", error: `GitHub answered a token purchase for installation ${installationId} without a token and its expiry.` };
    }
    this.#tokens.set(installationId, { secret: token, renewAt: expiresMs - TOKEN_RENEWAL_MS });
    return token;
  }

  /** One HTTP request with this credential, read as GithubAnswer. */
  async #exchange(request: GithubRequest, credential: string, fetchImpl: typeof fetch): Promise<GithubAnswer> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.#timeoutMs);
    const mayHaveActed = request.method !== "GET";
    try {
      const response = await fetchImpl(`${this.#settings.apiUrl}${request.path}`, {
        method: request.method,
        headers: {
          Authorization: `Bearer ${credential}`,
          Accept: "application/vnd.github+json",
          "X-GitHub-Api-Version": API_VERSION,
          "User-Agent": USER_AGENT,
          ...(request.body === undefined ? {} : { "Content-Type": "application/json; charset=utf-8" }),
        },
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: controller.signal,
      });
      // The credential of this request is among the secrets, whatever happens to the client's tokens meanwhile.
      return await readAnswer(response, { secrets: { ...this.#secrets(), GITHUB_CREDENTIAL: credential }, mayHaveActed, now: Date.now() });
    } catch (error) {
      const why = controller.signal.aborted
        ? `GitHub did not answer within ${this.#timeoutMs} ms.`
        : `GitHub is unreachable: ${error instanceof Error ? error.message : String(error)}`;
      const masked = excerpt(why, 300, { ...this.#secrets(), GITHUB_CREDENTIAL: credential });
      return { kind: "retry", error: masked, ...(mayHaveActed ? { uncertain: true as const } : {}) };
    } finally {
      clearTimeout(timer);
    }
  }
}

// One client per App and API in this isolate, so that its tokens are reused while the isolate lives.
const apps = new Map<string, GithubApp>();
const MAX_APPS = 4;

/** The App's client for these settings in this isolate (a changed key or URL gets a client of its own). */
export function githubApp(settings: GithubAppSettings): GithubApp {
  const key = JSON.stringify([settings.apiUrl, settings.appId, settings.privateKeyPem]);
  let app = apps.get(key);
  if (app === undefined) {
    if (apps.size >= MAX_APPS) {
      apps.clear();
    }
    app = new GithubApp(settings);
    apps.set(key, app);
  }
  return app;
}
