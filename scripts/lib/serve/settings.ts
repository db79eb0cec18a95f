import { SETTING_NAMES } from "../../../src/settings";

/**
 * The embedded backend's settings: those the operator gives (the
 * environment, then .env.local, then .env), else the development defaults
 * the README uses, so that `npm run send` and `npm run smoke` work against it
 * as documented; then what the fake outside services need.
 */

/** The README's development secrets ("See data arrive"), and a service identity for Jangar's server. */
export const DEVELOPMENT_DEFAULTS = {
  GITHUB_WEBHOOK_SECRET: "dev-github-secret",
  SLACK_SIGNING_SECRET: "dev-slack-secret",
  EVENTS_WEBHOOK_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  SLACK_BOT_USER_ID: "U0JANGAR",
  JANGAR_SERVICE_IDENTITIES: "https://jangar.dev|jangar-server",
} as const;

/** The service identity of the defaults, as `setAdminAuth(key, identity)` or a JWT names it. */
export const DEVELOPMENT_SERVICE = { issuer: "https://jangar.dev", subject: "jangar-server" } as const;

/**
 * The admin key of every embedded backend: not a secret, since the backend
 * only listens on loopback and keeps nothing. Shaped as Convex's admin keys
 * (`<name>|<hex>`), so that `npx convex run --admin-key` takes it.
 */
export const DEVELOPMENT_ADMIN_KEY = "jangar-serve|0000000000000000development0only000000000000";

export type ServeSettings = {
  values: Record<string, string>;
  /** Settings taken from the development defaults, not given. */
  defaulted: string[];
  adminKey: string;
};

export function developmentSettings(given: Readonly<Record<string, string | undefined>>, forOutside: Record<string, string>): ServeSettings {
  const values: Record<string, string> = {};
  for (const name of [...SETTING_NAMES, "JANGAR_LOG_COST"]) {
    const value = given[name]?.trim();
    if (value) values[name] = value;
  }
  const defaulted = Object.keys(DEVELOPMENT_DEFAULTS).filter((name) => values[name] === undefined);
  for (const name of defaulted) {
    values[name] = DEVELOPMENT_DEFAULTS[name as keyof typeof DEVELOPMENT_DEFAULTS];
  }
  return { values: { ...forOutside, ...values }, defaulted, adminKey: DEVELOPMENT_ADMIN_KEY };
}
