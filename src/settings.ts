import { apiUrlProblem, appIdProblem } from "./github/settings";
import { bytesOfBase64 } from "./hmac";
import { appSlugProblem } from "./sources/github/comments";
import { parseServiceJwks } from "./serviceIdentity";

/**
 * The deployment's settings (docs/contract.md#6-environment), each with the
 * check of its form, and the capabilities they turn on, for `npm run doctor`
 * (convex/doctor.ts asks the deployment, scripts/lib/doctor.ts prints). A
 * check answers why a value is malformed, never quoting it: the answer may
 * be printed, and the value may be a secret.
 */

/** Why a value is malformed, or null when it is well-formed. */
type FormCheck = (value: string) => string | null;

const anyText: FormCheck = () => null;

const httpUrl: FormCheck = (value) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "not a URL";
  }
  return url.protocol === "http:" || url.protocol === "https:" ? null : `a ${url.protocol} URL, not http(s)`;
};

const positiveNumber: FormCheck = (value) => {
  const number = Number(value);
  return Number.isFinite(number) && number > 0 ? null : "not a positive number";
};

const positiveInteger: FormCheck = (value) => (/^[1-9]\d*$/.test(value) ? null : "not a positive whole number");

const MIN_KEY_BYTES = 16;

/** One or several space-separated `whsec_<base64>` secrets of at least 16 bytes (Standard Webhooks). */
const whsecSecrets: FormCheck = (value) => {
  const secrets = value.split(/\s+/).filter(Boolean);
  for (const [index, secret] of secrets.entries()) {
    const which = secrets.length > 1 ? `secret ${index + 1}` : "the secret";
    if (!secret.startsWith("whsec_")) {
      return `${which} does not start with whsec_`;
    }
    const key = bytesOfBase64(secret.slice("whsec_".length));
    if (key === null) {
      return `${which} is not whsec_ followed by base64`;
    }
    if (key.length < MIN_KEY_BYTES) {
      return `${which} is a ${key.length}-byte key; at least ${MIN_KEY_BYTES} bytes are needed`;
    }
  }
  return null;
};

/** A PEM private key (PKCS#1 or PKCS#8), with real line breaks or `\n` escapes. */
const pemPrivateKey: FormCheck = (value) => {
  const text = value.replaceAll("\\n", "\n").trim();
  const match = /^-----BEGIN ((?:RSA )?PRIVATE KEY)-----\s+([\s\S]+?)\s+-----END ((?:RSA )?PRIVATE KEY)-----$/.exec(text);
  if (match === null) {
    return "not a PEM private key (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY----- ... -----END ...-----)";
  }
  if (match[1] !== match[3]) {
    return "its BEGIN and END lines name different kinds of key";
  }
  return bytesOfBase64(match[2].replace(/\s+/g, "")) === null ? "its body between the BEGIN and END lines is not base64" : null;
};

/** Comma-separated `issuer|subject` tokenIdentifiers. */
const identityList: FormCheck = (value) => {
  const entries = value.split(",").map((entry) => entry.trim()).filter(Boolean);
  if (entries.length === 0) {
    return "no identity listed";
  }
  const bad = entries.findIndex((entry) => !/^[^|\s]+\|[^|\s]+$/.test(entry));
  return bad === -1 ? null : `entry ${bad + 1} is not issuer|subject (a tokenIdentifier, e.g. https://jangar.example|jangar-server)`;
};

/** Comma-separated workflow type names. */
const nameList: FormCheck = (value) => {
  const entries = value.split(",").map((entry) => entry.trim()).filter(Boolean);
  if (entries.length === 0) {
    return "no name listed";
  }
  const bad = entries.findIndex((entry) => /\s/.test(entry));
  return bad === -1 ? null : `entry ${bad + 1} has a space in it (separate names with commas)`;
};

/** A public key set for Jangar's server's tokens (src/serviceIdentity.ts says what it must be). */
const serviceJwks: FormCheck = (value) => {
  try {
    parseServiceJwks(value);
    return null;
  } catch (error) {
    return (error as Error).message.replace(/^JANGAR_SERVICE_JWKS /, "").split(". Set it")[0];
  }
};

const COMMENT_ASSOCIATIONS = ["OWNER", "MEMBER", "COLLABORATOR", "CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR", "FIRST_TIMER", "MANNEQUIN", "NONE"];

const associationList: FormCheck = (value) => {
  const entries = value.split(",").map((entry) => entry.trim()).filter(Boolean);
  const bad = entries.find((entry) => !COMMENT_ASSOCIATIONS.includes(entry));
  return entries.length === 0 ? "no association listed" : bad === undefined ? null : `an entry is not one of ${COMMENT_ASSOCIATIONS.join(", ")}`;
};

const prefixed =
  (prefix: string, what: string): FormCheck =>
  (value) =>
    value.startsWith(prefix) ? null : `not ${what} (one starts with ${prefix})`;

const slackId =
  (letters: string, what: string): FormCheck =>
  (value) =>
    new RegExp(`^[${letters}][A-Z0-9]{2,}$`).test(value) ? null : `not ${what} (${letters.split("").join(", ")} followed by capitals and digits)`;

/** Every deployment setting and the form it must have. */
export const SETTING_FORMS = {
  GITHUB_WEBHOOK_SECRET: anyText,
  // As the App client reads them (src/github/settings.ts, src/sources/github/comments.ts).
  GITHUB_APP_ID: appIdProblem,
  GITHUB_APP_PRIVATE_KEY: pemPrivateKey,
  GITHUB_APP_SLUG: appSlugProblem,
  GITHUB_API_URL: apiUrlProblem,
  GITHUB_COMMENT_ASSOCIATIONS: associationList,
  SLACK_SIGNING_SECRET: anyText,
  SLACK_BOT_USER_ID: slackId("UW", "a Slack user id"),
  SLACK_BOT_TOKEN: prefixed("xoxb-", "a bot token"),
  SLACK_API_URL: httpUrl,
  SLACK_ALERTS_CHANNEL: slackId("CGD", "a Slack channel id"),
  EVENTS_WEBHOOK_SECRET: whsecSecrets,
  JANGAR_EVENTS_URL: httpUrl,
  JANGAR_EVENTS_SECRET: whsecSecrets,
  JANGAR_SERVICE_IDENTITIES: identityList,
  JANGAR_SERVICE_JWKS: serviceJwks,
  JANGAR_WORKFLOW_TYPES: nameList,
  JANGAR_MAX_LIVE_ORDERS: positiveInteger,
  TEMPORAL_HTTP_URL: httpUrl,
  TEMPORAL_NAMESPACE: anyText,
  TEMPORAL_API_KEY: anyText,
  TEMPORAL_TASK_QUEUE: anyText,
  WEBHOOK_MAX_BODY_BYTES: positiveInteger,
  DELIVERY_RETENTION_DAYS: positiveNumber,
  DELIVERY_BODY_RETENTION_DAYS: positiveNumber,
  WEBHOOK_INLINE_BODY_BYTES: positiveInteger,
  STALE_AFTER_MS: positiveNumber,
  STALE_FAIL_AFTER_MS: positiveNumber,
} satisfies Record<string, FormCheck>;

export type SettingName = keyof typeof SETTING_FORMS;

export const SETTING_NAMES = Object.keys(SETTING_FORMS) as SettingName[];

export type SettingState = { name: SettingName; state: "set" | "missing" } | { name: SettingName; state: "malformed"; why: string };

/** What a setting's value is, as a state that never carries the value. */
export function settingState(name: SettingName, value: string | undefined): SettingState {
  const trimmed = value?.trim();
  if (!trimmed) {
    return { name, state: "missing" };
  }
  const why = SETTING_FORMS[name](trimmed);
  return why === null ? { name, state: "set" } : { name, state: "malformed", why };
}

/** DELIVERY_RETENTION_DAYS when it is unset. */
export const DEFAULT_DELIVERY_RETENTION_DAYS = 30;

/**
 * Why DELIVERY_BODY_RETENTION_DAYS cannot apply beside DELIVERY_RETENTION_DAYS,
 * or null: a body cannot outlive its delivery's row, which takes it along.
 */
export function bodyRetentionProblem(bodyDays: number, rowDays: number): string | null {
  return bodyDays > rowDays
    ? "longer than DELIVERY_RETENTION_DAYS, and a body cannot outlive its delivery; set DELIVERY_BODY_RETENTION_DAYS to at most DELIVERY_RETENTION_DAYS, or unset it"
    : null;
}

/** Every setting's state, as `read` gives the values, with the rules between settings applied. */
export function settingStates(read: (name: SettingName) => string | undefined): SettingState[] {
  const states = SETTING_NAMES.map((name) => settingState(name, read(name)));
  const byName = (name: SettingName) => states.find((state) => state.name === name)!;
  const rows = byName("DELIVERY_RETENTION_DAYS");
  const bodies = byName("DELIVERY_BODY_RETENTION_DAYS");
  if (bodies.state === "set" && rows.state !== "malformed") {
    const rowDays = rows.state === "set" ? Number(read(rows.name)) : DEFAULT_DELIVERY_RETENTION_DAYS;
    const why = bodyRetentionProblem(Number(read(bodies.name)), rowDays);
    if (why !== null) {
      states[states.indexOf(bodies)] = { name: bodies.name, state: "malformed", why };
    }
  }
  return states;
}

/**
 * What the deployment can do, and the settings each needs (`needs`) or
 * reads when given (`optional`); one setting may serve several.
 */
export type Capability = { name: string; does: string; needs: SettingName[]; optional: SettingName[] };

export const CAPABILITIES: Capability[] = [
  { name: "GitHub in", does: "verifies and records GitHub's webhooks", needs: ["GITHUB_WEBHOOK_SECRET"], optional: [] },
  { name: "GitHub comments", does: "hears comments that mention the App", needs: ["GITHUB_APP_SLUG"], optional: ["GITHUB_COMMENT_ASSOCIATIONS"] },
  {
    name: "GitHub App",
    does: "acts on GitHub as the App (reactions, replies)",
    needs: ["GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY"],
    optional: ["GITHUB_API_URL"],
  },
  { name: "Slack in", does: "verifies Slack's events, clicks and /jangar", needs: ["SLACK_SIGNING_SECRET"], optional: ["SLACK_BOT_USER_ID"] },
  { name: "Slack out", does: "posts replies and work-order cards", needs: ["SLACK_BOT_TOKEN"], optional: ["SLACK_API_URL"] },
  { name: "Events in", does: "verifies Standard Webhooks events (workflow runners)", needs: ["EVENTS_WEBHOOK_SECRET"], optional: [] },
  { name: "Events out", does: "tells Jangar's server what happened", needs: ["JANGAR_EVENTS_URL", "JANGAR_EVENTS_SECRET"], optional: [] },
  {
    name: "Service calls",
    does: "lets Jangar's server call the functions as a service",
    needs: ["JANGAR_SERVICE_IDENTITIES", "JANGAR_SERVICE_JWKS"],
    optional: ["JANGAR_MAX_LIVE_ORDERS"],
  },
  {
    name: "Temporal",
    does: "launches submitted orders and reconciles them",
    needs: ["TEMPORAL_HTTP_URL", "TEMPORAL_TASK_QUEUE"],
    optional: ["TEMPORAL_NAMESPACE", "TEMPORAL_API_KEY", "JANGAR_WORKFLOW_TYPES"],
  },
  { name: "Alerts", does: "posts failures to a Slack channel, each condition at most hourly", needs: ["SLACK_ALERTS_CHANNEL", "SLACK_BOT_TOKEN"], optional: [] },
  {
    name: "Limits",
    does: "body size, retention and staleness (defaults apply when unset)",
    needs: [],
    optional: [
      "WEBHOOK_MAX_BODY_BYTES",
      "WEBHOOK_INLINE_BODY_BYTES",
      "DELIVERY_RETENTION_DAYS",
      "DELIVERY_BODY_RETENTION_DAYS",
      "STALE_AFTER_MS",
      "STALE_FAIL_AFTER_MS",
    ],
  },
];
