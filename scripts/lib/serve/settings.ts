import { generateServiceKey } from "../../../client/auth";
import { SERVICE_ISSUER, SERVICE_SUBJECT, serviceTokenIdentifier } from "../../../src/serviceIdentity";
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
  GITHUB_APP_SLUG: "jangar",
  JANGAR_SERVICE_IDENTITIES: serviceTokenIdentifier(),
} as const;

/** Jangar's server as the service client's tokens name it (`iss`, `sub`), and as `setAdminAuth(key, identity)` may. */
export const DEVELOPMENT_SERVICE = { issuer: SERVICE_ISSUER, subject: SERVICE_SUBJECT } as const;

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

/**
 * JANGAR_SERVICE_JWKS as given, else the public half of a given
 * JANGAR_SERVICE_KEY, else the public half of a key made for this run and
 * then forgotten. The embedded backend decodes tokens without verifying
 * them, so any key of Jangar's server works; the setting is there as on a
 * deployment, for the doctor.
 */
export async function serviceJwks(given: Readonly<Record<string, string | undefined>>): Promise<string | null> {
  if (given.JANGAR_SERVICE_JWKS?.trim()) {
    return null;
  }
  const privateKey = given.JANGAR_SERVICE_KEY?.trim();
  if (privateKey) {
    try {
      const { d: _private, ...publicKey } = JSON.parse(privateKey) as Record<string, unknown>;
      return JSON.stringify({ keys: [publicKey] });
    } catch {
      return null;
    }
  }
  return (await generateServiceKey()).jwks;
}

export function developmentSettings(
  given: Readonly<Record<string, string | undefined>>,
  forOutside: Record<string, string>,
  madeJwks: string | null = null,
): ServeSettings {
  const values: Record<string, string> = {};
  for (const name of [...SETTING_NAMES, "JANGAR_LOG_COST"]) {
    const value = given[name]?.trim();
    if (value) values[name] = value;
  }
  const defaulted = Object.keys(DEVELOPMENT_DEFAULTS).filter((name) => values[name] === undefined);
  for (const name of defaulted) {
    values[name] = DEVELOPMENT_DEFAULTS[name as keyof typeof DEVELOPMENT_DEFAULTS];
  }
  if (madeJwks !== null) {
    values.JANGAR_SERVICE_JWKS = madeJwks;
  }
  return { values: { ...forOutside, ...values }, defaulted, adminKey: DEVELOPMENT_ADMIN_KEY };
}
