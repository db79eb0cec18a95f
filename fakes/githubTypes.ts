/**
 * What the fake GitHub API (`fakes/github.ts`) records and is told: its
 * answers, its calls, the resources it keeps, and its options. Import them
 * from `fakes/github`, which re-exports them.
 */
import type { RecordedCall, ScriptedAnswer } from "./http";

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
  /** The comment's id, or the number. */
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
