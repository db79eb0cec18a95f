import { env } from "../../_generated/server";
import { accept, reject, type Check } from "../../../src/check";
import { APP_SETTING_NAMES, githubAppSettings, type GithubAppSettings } from "../../../src/github/settings";
import { bodyRetentionProblem, DEFAULT_DELIVERY_RETENTION_DAYS } from "../../../src/settings";
import type { Settings, WebhookSource } from "../../../src/sources/source";
import type { TemporalConfig } from "../../../src/temporal/client";

/**
 * The deployment's settings (docs/contract.md#6-environment), read when a function
 * runs so that `npx convex env set` takes effect without a redeploy.
 */

/** A setting's value, or undefined when it is unset or blank. */
export function setting(name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/** The entries of a comma-separated setting, trimmed, blanks dropped; null when it is unset or blank. */
function listSetting(name: string): string[] | null {
  const raw = setting(name);
  return raw === undefined
    ? null
    : raw
        .split(",")
        .map((entry) => entry.trim())
        .filter((entry) => entry.length > 0);
}

/** tokenIdentifiers of the identities that act as Jangar's server. */
export function serviceIdentities(): Set<string> {
  return new Set(listSetting("JANGAR_SERVICE_IDENTITIES"));
}

/**
 * The workflow types orders may name and the launcher may start
 * (JANGAR_WORKFLOW_TYPES), or null when it is unset and any type is taken.
 */
export function allowedWorkflowTypes(): string[] | null {
  return listSetting("JANGAR_WORKFLOW_TYPES");
}

/** The settings a webhook source reads besides its secret, as the deployment has them now. */
export function sourceSettings(source: WebhookSource): Settings {
  return Object.fromEntries(source.settingNames.map((name) => [name, setting(name)]));
}

/** A positive number setting, or what is wrong with it, naming the setting. */
function positiveNumberCheck(name: string, fallback: number): Check<number> {
  const raw = setting(name);
  if (raw === undefined) {
    return accept(fallback);
  }
  const value = Number(raw);
  return Number.isFinite(value) && value > 0 ? accept(value) : reject(`${name} is ${JSON.stringify(raw)}; it must be a positive number.`);
}

/** A positive number setting; a value that is not one is an error naming the setting. */
function positiveNumber(name: string, fallback: number): number {
  const checked = positiveNumberCheck(name, fallback);
  if (!checked.ok) {
    throw new Error(checked.message);
  }
  return checked.value;
}

/** A positive whole-number setting; a value that is not one is an error naming the setting. */
function positiveInteger(name: string, fallback: number): number {
  const raw = setting(name);
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new Error(`${name} is ${JSON.stringify(raw)}; it must be a positive whole number.`);
  }
  return value;
}

/** The live (not terminal) work orders one user may hold (JANGAR_MAX_LIVE_ORDERS, default 50), drafts included. */
export function maxLiveOrders(): number {
  return positiveInteger("JANGAR_MAX_LIVE_ORDERS", 50);
}

const MiB = 1024 * 1024;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The largest webhook body accepted (WEBHOOK_MAX_BODY_BYTES, default 8 MiB):
 * admission holds two copies of a body at a time in a 64 MiB isolate.
 */
export function maxBodyBytes(): number {
  return positiveNumber("WEBHOOK_MAX_BODY_BYTES", 8 * MiB);
}

/** How long deliveries are kept (DELIVERY_RETENTION_DAYS, default 30). */
export function deliveryRetentionMs(): number {
  return positiveNumber("DELIVERY_RETENTION_DAYS", DEFAULT_DELIVERY_RETENTION_DAYS) * DAY_MS;
}

/**
 * How long a finished delivery's body is kept (DELIVERY_BODY_RETENTION_DAYS,
 * default and most DELIVERY_RETENTION_DAYS): a busy deployment keeps its
 * deliveries' audit without their bodies. A value that is not one is
 * refused, naming both settings, and only the dropping of bodies waits for
 * it: retention purges the rows whatever it says (convex/inbox/maintenance.ts).
 */
export function bodyRetentionMs(): Check<number> {
  const rows = deliveryRetentionMs();
  const days = positiveNumberCheck("DELIVERY_BODY_RETENTION_DAYS", rows / DAY_MS);
  if (!days.ok) {
    return days;
  }
  const problem = bodyRetentionProblem(days.value, rows / DAY_MS);
  return problem === null
    ? accept(days.value * DAY_MS)
    : reject(`DELIVERY_BODY_RETENTION_DAYS is ${days.value}: ${problem} (DELIVERY_RETENTION_DAYS is ${rows / DAY_MS}).`);
}

// The largest body kept in a document: far under Convex's 1 MiB a document, and above every real GitHub payload (27 KB).
export const INLINE_BODY_MAX_BYTES = 64 * 1024;

/**
 * The largest body recorded in a document and processed by a mutation
 * (WEBHOOK_INLINE_BODY_BYTES, default and most 64 KiB); a larger one goes
 * to file storage and is processed by an action.
 */
export function inlineBodyBytes(): number {
  const bytes = positiveNumber("WEBHOOK_INLINE_BODY_BYTES", INLINE_BODY_MAX_BYTES);
  if (bytes > INLINE_BODY_MAX_BYTES) {
    throw new Error(`WEBHOOK_INLINE_BODY_BYTES is ${bytes}; at most ${INLINE_BODY_MAX_BYTES} bytes are kept in a document. Set a smaller value, or unset it.`);
  }
  return bytes;
}

const MINUTE_MS = 60 * 1000;

/** An accepted or running order untouched this long is stale (STALE_AFTER_MS, default 30 minutes). */
export function staleAfterMs(): number {
  return positiveNumber("STALE_AFTER_MS", 30 * MINUTE_MS);
}

/** Without Temporal, a stale order untouched this long fails (STALE_FAIL_AFTER_MS, default 24 hours). */
export function staleFailAfterMs(): number {
  return positiveNumber("STALE_FAIL_AFTER_MS", DAY_MS);
}

/** Temporal's HTTP API, when TEMPORAL_HTTP_URL is set. */
export function temporalConfig(): TemporalConfig | null {
  const baseUrl = setting("TEMPORAL_HTTP_URL");
  if (baseUrl === undefined) {
    return null;
  }
  return {
    baseUrl,
    namespace: setting("TEMPORAL_NAMESPACE") ?? "default",
    apiKey: setting("TEMPORAL_API_KEY"),
    timeoutMs: 10_000,
  };
}

/** Where submitted orders are launched: Temporal and a task queue, or null when another launcher owns it. */
export function launchConfig(): { temporal: TemporalConfig; taskQueue: string } | null {
  const temporal = temporalConfig();
  const taskQueue = setting("TEMPORAL_TASK_QUEUE");
  return temporal === null || taskQueue === undefined ? null : { temporal, taskQueue };
}

/**
 * The GitHub App's settings (src/github/settings.ts): null while neither
 * GITHUB_APP_ID nor GITHUB_APP_PRIVATE_KEY is set; else the App, or what is
 * wrong with its settings.
 */
export function githubAppConfig(): Check<GithubAppSettings> | null {
  return githubAppSettings(Object.fromEntries(APP_SETTING_NAMES.map((name) => [name, setting(name)])));
}

/** Requests to GitHub are queued once the App's id and key are both set (a malformed one fails its rows, naming it). */
export function githubPostingEnabled(): boolean {
  return setting("GITHUB_APP_ID") !== undefined && setting("GITHUB_APP_PRIVATE_KEY") !== undefined;
}
