import { SOURCES, type SourceName } from "../../src/sources/source";
import { SECRET_VARIABLES, signedRequest, type Fixture, type Secrets } from "./send";

/**
 * `npm run smoke`: checks a running deployment from outside, as an operator
 * would right after a deploy. `GET /healthz`, then one signed request per
 * sender whose secret is given, each one the deployment records and acts on
 * by doing nothing: GitHub's `ping`, Slack's `url_verification`, and an
 * events type no one acts on.
 */

export type Check = {
  name: "healthz" | SourceName;
  /** null: not checked (no secret given), which fails the check unless the operator skipped that sender by name. */
  ok: boolean | null;
  /** Not checked because the operator said so (`--skip-smoke github`). */
  skipped?: true;
  status?: number;
  detail: string;
  ms?: number;
};

export type SmokeOptions = {
  url: string;
  secrets: Secrets;
  /** Senders the operator chose not to check: not a failure. */
  skip?: readonly SourceName[];
  fetch?: typeof fetch;
  now?: () => number;
  timeoutMs?: number;
};

export const SMOKE_EVENT_TYPE = "jangar.smoke";

/** The request of each sender that changes nothing, and how to tell its answer is right. */
function probeOf(source: SourceName, siteUrl: string): { fixture: Fixture; answered: (body: Record<string, unknown>) => boolean; what: string } {
  const file = `(smoke ${source})`;
  switch (source) {
    case "github":
      return {
        what: "ping",
        fixture: {
          file,
          source,
          event: "ping",
          payload: {
            zen: "Design for failure.",
            hook_id: 1,
            hook: { type: "Repository", id: 1, name: "web", active: true, events: ["push"], config: { content_type: "json", url: `${siteUrl}/webhooks/github` } },
          },
        },
        answered: (body) => body.status === "accepted" || body.status === "duplicate" || body.status === "ignored",
      };
    case "slack": {
      const challenge = `jangar-smoke-${crypto.randomUUID()}`;
      return {
        what: "url_verification",
        fixture: { file, source, payload: { token: "jangar-smoke", challenge, type: "url_verification" } },
        answered: (body) => body.challenge === challenge,
      };
    }
    case "events":
      return {
        what: SMOKE_EVENT_TYPE,
        fixture: { file, source, payload: { type: SMOKE_EVENT_TYPE, timestamp: new Date().toISOString(), data: {} } },
        answered: (body) => body.status === "ignored" || body.status === "duplicate",
      };
  }
}

/** Why a sender's probe was refused, in the operator's terms. */
function refusal(source: SourceName, status: number, response: Headers, error: string | undefined): string {
  const variable = SECRET_VARIABLES[source];
  if (status === 503 && response.get("retry-after") === null) {
    return `secret not set on the deployment: npx convex env set ${variable} <secret> (the deployment says: ${error ?? "503"})`;
  }
  if (status === 503) {
    return `the deployment could not record the delivery just now (Retry-After ${response.get("retry-after")}): run the check again`;
  }
  if (status === 401) {
    return `secret differs: the deployment's ${variable} is not the secret given here (${error ?? "401"})`;
  }
  if (status === 404) {
    return "no such route: is the URL the deployment's site URL (…convex.site), and is this code deployed?";
  }
  return error ?? `unexpected answer ${status}`;
}

async function answerOf(response: Response): Promise<Record<string, unknown>> {
  const text = await response.text();
  try {
    const json = JSON.parse(text) as unknown;
    return typeof json === "object" && json !== null ? (json as Record<string, unknown>) : { text };
  } catch {
    return { text: text.slice(0, 200) };
  }
}

function unreachable(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (error as Error).message;
  return `unreachable (${why}): check the URL, and that the deployment is up`;
}

/** Runs the checks in order, reporting each as it ends; stops after /healthz if the deployment does not answer it. */
export async function smoke(options: SmokeOptions, report: (check: Check) => void): Promise<Check[]> {
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const base = options.url.replace(/\/+$/, "");
  const signal = () => AbortSignal.timeout(options.timeoutMs ?? 10_000);
  const checks: Check[] = [];
  const done = (check: Check) => {
    checks.push(check);
    report(check);
  };

  let started = performance.now();
  try {
    const response = await doFetch(`${base}/healthz`, { signal: signal() });
    const body = await answerOf(response);
    const ok = response.status === 200 && body.status === "ok";
    done({
      name: "healthz",
      ok,
      status: response.status,
      detail: ok
        ? "the deployment answers"
        : response.status === 404
          ? `no /healthz at ${base}: give the deployment's site URL (https://<deployment>.convex.site, not …convex.cloud)`
          : `unexpected answer: ${JSON.stringify(body).slice(0, 200)}`,
      ms: performance.now() - started,
    });
  } catch (error) {
    done({ name: "healthz", ok: false, detail: unreachable(error), ms: performance.now() - started });
  }
  if (checks[0].ok !== true) {
    return checks;
  }

  for (const source of SOURCES) {
    if (options.skip?.includes(source)) {
      done({ name: source, ok: null, skipped: true, detail: "skipped, as asked: this route is not checked" });
      continue;
    }
    const secret = options.secrets[source];
    if (!secret) {
      done({ name: source, ok: null, detail: `not checked: no secret given (--${source}-secret or ${SECRET_VARIABLES[source]}), or skip it by name` });
      continue;
    }
    const probe = probeOf(source, base);
    const id = source === "events" ? `msg_smoke${crypto.randomUUID().replaceAll("-", "")}` : crypto.randomUUID();
    const { path, init } = await signedRequest({ fixture: probe.fixture, id }, secret, now());
    started = performance.now();
    try {
      const response = await doFetch(`${base}${path}`, { ...init, signal: signal() });
      const body = await answerOf(response);
      const ok = response.status === 200 && probe.answered(body);
      done({
        name: source,
        ok,
        status: response.status,
        detail: ok
          ? `${probe.what} ${typeof body.status === "string" ? body.status : "answered"}`
          : response.status === 200
            ? `${probe.what} answered unexpectedly: ${JSON.stringify(body).slice(0, 200)}`
            : refusal(source, response.status, response.headers, typeof body.error === "string" ? body.error : undefined),
        ms: performance.now() - started,
      });
    } catch (error) {
      done({ name: source, ok: false, detail: unreachable(error), ms: performance.now() - started });
    }
  }
  return checks;
}

/** A check failed, or a route could not be checked and was not skipped by name. */
export function smokeFailed(checks: Check[]): boolean {
  return checks.some((check) => check.ok === false || (check.ok === null && !check.skipped));
}

export function formatCheck(check: Check): string {
  const verdict = check.ok === null ? (check.skipped ? "skip" : "NOT") : check.ok ? "ok" : "FAIL";
  const status = check.status === undefined ? "   " : String(check.status);
  const ms = check.ms === undefined ? "" : `  ${check.ms.toFixed(0)} ms`;
  return `${verdict.padEnd(4)}  ${check.name.padEnd(7)} ${status}  ${check.detail}${ms}`;
}

export function summarizeChecks(checks: Check[]): string {
  const failed = checks.filter((check) => check.ok === false).length;
  const passed = checks.filter((check) => check.ok === true).length;
  const unchecked = checks.filter((check) => check.ok === null && !check.skipped).map((check) => check.name);
  const skipped = checks.filter((check) => check.skipped).length;
  const parts = [
    ...(failed > 0 ? [`${failed} check(s) failed`] : []),
    `${passed} passed`,
    ...(unchecked.length > 0 ? [`${unchecked.length} not checked (${unchecked.join(", ")})`] : []),
    ...(skipped > 0 ? [`${skipped} skipped as asked`] : []),
  ];
  if (failed === 0 && unchecked.length === 0) {
    return `smoke: ${parts.join(", ")}.`;
  }
  const advice =
    unchecked.length > 0
      ? ` A route not checked is not a pass: give its secret (${unchecked.map((name) => (name === "healthz" ? "" : `--${name}-secret`)).filter(Boolean).join(", ")}), or skip it by name (--skip ${unchecked.filter((name) => name !== "healthz").join(",")}).`
      : "";
  return `smoke: ${parts.join(", ")}.${advice}`;
}

/** `--skip github,slack` (or the option given several times): the senders named, each a known one. */
export function skippedSources(values: readonly string[], option: string): SourceName[] {
  const names = values.flatMap((value) => value.split(",")).map((name) => name.trim()).filter(Boolean);
  const unknown = names.find((name) => !(SOURCES as readonly string[]).includes(name));
  if (unknown !== undefined) {
    throw new Error(`${option} takes sender names (${SOURCES.join(", ")}), not ${JSON.stringify(unknown)}.`);
  }
  return names as SourceName[];
}
