/**
 * The signed-delivery client behind `npm run send`: reads fixtures, signs
 * each one exactly as its sender does (GitHub, Slack, Standard Webhooks) and
 * posts it to a deployment's HTTP actions.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { webhookSources } from "../../src/sources";
import { SOURCES, type SourceName } from "../../src/sources/source";

/**
 * A delivery to sign and send. With `form`, the payload is a form's fields
 * (Slack's interactivity and slash commands): sent form-encoded, a field
 * that is not text (an interaction's `payload`) as JSON.
 */
export type Fixture = { file: string; source: SourceName; event?: string; hookId?: string; form?: true; payload: Record<string, unknown> };
export type Secrets = Partial<Record<SourceName, string>>;

/** The deployment setting holding each sender's secret; the client reads the same names. */
export const SECRET_VARIABLES = Object.fromEntries(
  SOURCES.map((source) => [source, webhookSources[source].secretVariable]),
) as Record<SourceName, string>;

/**
 * A fixture file is `{ source, event?, hookId?, payload }`, or
 * `{ source: "slack", form: { ...fields } }` for a form-encoded Slack
 * request; a bare Slack callback (`type: event_callback | url_verification`)
 * or a bare Standard Webhooks event (`{ type, data }`) is recognised as such.
 */
export function readFixture(file: string): Fixture {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${file} is not a JSON fixture (${(error as Error).message}).`, { cause: error });
  }
  if (typeof json !== "object" || json === null) {
    throw new Error(`${file}: not a fixture (expected { source, payload }, a Slack callback or a { type, data } event).`);
  }
  if (json.source === "slack" && typeof json.form === "object" && json.form !== null) {
    return { file, source: "slack", form: true, payload: json.form as Record<string, unknown> };
  }
  if (typeof json.source === "string" && (SOURCES as readonly string[]).includes(json.source)) {
    if (json.source === "github" && typeof json.event !== "string") {
      throw new Error(`${file}: a GitHub fixture needs "event" (the X-GitHub-Event).`);
    }
    return {
      file,
      source: json.source as SourceName,
      event: json.event as string | undefined,
      hookId: json.hookId as string | undefined,
      payload: json.payload as Record<string, unknown>,
    };
  }
  if (json.type === "event_callback" || json.type === "url_verification" || json.type === "app_rate_limited") {
    return { file, source: "slack", payload: json };
  }
  if (typeof json.type === "string" && "data" in json) {
    return { file, source: "events", payload: json };
  }
  throw new Error(`${file}: not a fixture (expected { source, payload }, a Slack callback or a { type, data } event).`);
}

/** The fixtures at these paths: files, or every .json file below a directory, in name order. */
export function loadFixtures(paths: string[]): Fixture[] {
  const files: string[] = [];
  const walk = (path: string) => {
    if (!existsSync(path)) {
      throw new Error(`${path} does not exist: give fixture files or directories, e.g. fixtures/github.`);
    }
    if (statSync(path).isDirectory()) {
      for (const entry of readdirSync(path).sort()) walk(join(path, entry));
    } else if (path.endsWith(".json")) {
      files.push(path);
    }
  };
  paths.forEach(walk);
  if (files.length === 0) {
    throw new Error(`No .json fixture in ${paths.join(", ")}.`);
  }
  return files.map(readFixture);
}

/** One delivery of a fixture: the ids a sender would give it, fixed so that repeating it resends the same delivery. */
export type Delivery = { fixture: Fixture; id: string };

function newId(source: SourceName): string {
  const uuid = crypto.randomUUID();
  return source === "events" ? `msg_${uuid.replaceAll("-", "")}` : source === "slack" ? `Ev${uuid.replaceAll("-", "").slice(0, 10).toUpperCase()}` : uuid;
}

export function deliveriesOf(fixtures: Fixture[]): Delivery[] {
  return fixtures.map((fixture) => ({ fixture, id: newId(fixture.source) }));
}

const utf8 = new TextEncoder();

/** A form fixture's body, with `id` as its trigger_id (in the interaction's JSON, or as the slash command's field). */
function formBody(fields: Record<string, unknown>, id: string): string {
  const { payload } = fields;
  const entries = Object.entries(typeof payload === "object" && payload !== null ? { payload: { ...payload, trigger_id: id } } : { ...fields, trigger_id: id });
  return new URLSearchParams(entries.map(([name, value]) => [name, typeof value === "string" ? value : JSON.stringify(value)])).toString();
}

/** The request the fixture's sender would make, signed with `secret` (the source's own signer), at `now` (ms). */
export async function signedRequest(delivery: Delivery, secret: string, now: number): Promise<{ path: string; init: RequestInit }> {
  const { fixture, id } = delivery;
  const source = webhookSources[fixture.source];
  const payload = fixture.source === "slack" && fixture.payload.type === "event_callback" ? { ...fixture.payload, event_id: id } : fixture.payload;
  const body = fixture.form ? formBody(fixture.payload, id) : JSON.stringify(payload);
  const signed = await source.sign(secret, { body: utf8.encode(body), id, timestamp: Math.floor(now / 1000) });
  const contentType = fixture.form ? "application/x-www-form-urlencoded" : "application/json";
  const headers: Record<string, string> = { "Content-Type": contentType, ...signed };
  if (fixture.source === "github") {
    Object.assign(headers, {
      "User-Agent": "GitHub-Hookshot/jangar-send",
      "X-GitHub-Event": fixture.event!,
      "X-GitHub-Delivery": id,
      "X-GitHub-Hook-ID": fixture.hookId ?? "1",
    });
  }
  return { path: source.path, init: { method: "POST", headers, body } };
}

export type Result = { file: string; source: SourceName; status: number; outcome: string; ms: number };

export type SendOptions = {
  url: string;
  secrets: Secrets;
  /** Each delivery is sent this many times, with the same ids: a sender's retries. */
  repeat: number;
  /** With `unique`, each repetition is a new delivery (new ids), for load. */
  unique: boolean;
  concurrency: number;
  fetch?: typeof fetch;
  now?: () => number;
};

/** Network errors that mean nothing answers at the URL, rather than a delivery of its own failing. */
const NOTHING_THERE = ["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH"];

/** Whether the deployment was never reached: every result is a connection that nothing answered. */
export function nothingAnswered(results: Result[]): boolean {
  return results.length > 0 && results.every((result) => result.status === 0);
}

/** Sends every delivery, `concurrency` at a time, reporting each as it is answered; stops at the first sign that nothing listens. */
export async function send(fixtures: Fixture[], options: SendOptions, report: (result: Result) => void): Promise<Result[]> {
  const missing = [...new Set(fixtures.map((fixture) => fixture.source))].filter((source) => !options.secrets[source]);
  if (missing.length > 0) {
    throw new Error(`No secret for ${missing.join(", ")}: set ${missing.map((source) => SECRET_VARIABLES[source]).join(", ")} or pass --${missing[0]}-secret.`);
  }
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const base = options.url.replace(/\/+$/, "");
  const once = deliveriesOf(fixtures);
  const queue: Delivery[] = [];
  for (let round = 0; round < options.repeat; round += 1) {
    queue.push(...(options.unique && round > 0 ? deliveriesOf(fixtures) : once));
  }
  const results: Result[] = [];
  let next = 0;
  const worker = async () => {
    while (next < queue.length) {
      const delivery = queue[next++];
      const { path, init } = await signedRequest(delivery, options.secrets[delivery.fixture.source]!, now());
      const started = performance.now();
      let result: Result;
      try {
        const response = await doFetch(`${base}${path}`, init);
        const text = await response.text();
        let outcome = text.slice(0, 120);
        try {
          const json = JSON.parse(text) as { status?: string; error?: string; challenge?: string; response_type?: string };
          outcome = json.status ?? (json.challenge !== undefined ? "challenge" : json.response_type !== undefined ? "answered" : json.error ?? outcome);
        } catch {
          // Not JSON: the text is the outcome.
        }
        result = { file: delivery.fixture.file, source: delivery.fixture.source, status: response.status, outcome, ms: performance.now() - started };
      } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause?.code;
        result = {
          file: delivery.fixture.file,
          source: delivery.fixture.source,
          status: 0,
          outcome: `unreachable: ${(error as Error).message}${cause ? ` (${cause})` : ""}`,
          ms: performance.now() - started,
        };
        if (cause !== undefined && NOTHING_THERE.includes(cause)) {
          // Nothing listens there: the other deliveries would meet the same.
          next = queue.length;
        }
      }
      results.push(result);
      report(result);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  return results;
}

export function isRejected(result: Result): boolean {
  return result.status < 200 || result.status > 299;
}

export function formatResult(result: Result): string {
  return `${String(result.status).padStart(3)} ${result.outcome.padEnd(10)} ${result.ms.toFixed(0).padStart(5)} ms  ${result.source.padEnd(6)} ${result.file}`;
}

export function summarize(results: Result[]): string {
  const counts = new Map<string, number>();
  for (const result of results) {
    const key = isRejected(result) ? "rejected" : result.outcome;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const times = results.map((result) => result.ms).sort((a, b) => a - b);
  const p50 = times[Math.floor((times.length - 1) / 2)] ?? 0;
  const tally = [...counts].map(([key, count]) => `${count} ${key}`).join(", ");
  return `${results.length} sent: ${tally || "nothing"}; p50 ${p50.toFixed(0)} ms, max ${(times.at(-1) ?? 0).toFixed(0)} ms`;
}
