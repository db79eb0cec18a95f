import type { AuthProvider } from "convex/server";

/*
 * Jangar's server as a service identity (docs/server.md#authentication): it
 * signs its own short-lived ES256 tokens, and the deployment trusts their
 * public keys, JANGAR_SERVICE_JWKS, through a Custom JWT provider in
 * convex/auth.config.ts. Convex derives a token's tokenIdentifier as
 * `<iss>|<sub>`: the server itself is `https://jangar.internal|jangar-server`,
 * listed in JANGAR_SERVICE_IDENTITIES; a token for another subject is that
 * user. The service client (client/auth.ts) mints the tokens.
 */

export const SERVICE_ISSUER = "https://jangar.internal";
/** The tokens' `aud`: Convex checks it (`applicationID`), so a token minted for another service is refused here. */
export const SERVICE_AUDIENCE = "jangar-persistence";
export const SERVICE_SUBJECT = "jangar-server";
export const SERVICE_ALGORITHM = "ES256";
export const SERVICE_JWKS_SETTING = "JANGAR_SERVICE_JWKS";

/** The tokenIdentifier Convex gives a token of Jangar's server for `subject`. */
export function serviceTokenIdentifier(subject: string = SERVICE_SUBJECT): string {
  return `${SERVICE_ISSUER}|${subject}`;
}

/** A public key of the set, as Convex's ES256 verification reads it. */
type PublicJwk = { kty: "EC"; crv: "P-256"; x: string; y: string; kid: string; alg?: string; use?: string };

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * The public key set in JANGAR_SERVICE_JWKS, checked; an Error naming the
 * setting and the fix otherwise. A private key (`d`) is refused: the
 * deployment must never hold what signs the server's tokens.
 */
export function parseServiceJwks(setting: string): { keys: PublicJwk[] } {
  const problem = (what: string) =>
    new Error(`${SERVICE_JWKS_SETTING} ${what}. Set it to the "jwks" that \`npm run service-key\` prints: {"keys":[{"kty":"EC","crv":"P-256","x":...,"y":...,"kid":...}]}.`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(setting);
  } catch {
    throw problem("is not JSON");
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) {
    throw problem('has no "keys" list');
  }
  return {
    keys: keys.map((key: Record<string, unknown>, index) => {
      const which = `key ${index + 1}`;
      if (typeof key !== "object" || key === null) throw problem(`${which} is not an object`);
      if ("d" in key) throw problem(`${which} is a private key ("d"); give the deployment the public key only, and keep the private one on Jangar's server`);
      if (key.kty !== "EC" || key.crv !== "P-256") throw problem(`${which} is not an EC P-256 key (ES256)`);
      for (const field of ["x", "y", "kid"] as const) {
        if (typeof key[field] !== "string" || !BASE64URL.test(key[field])) throw problem(`${which} has no valid "${field}"`);
      }
      if (key.alg !== undefined && key.alg !== SERVICE_ALGORITHM) throw problem(`${which} is for ${String(key.alg)}, not ${SERVICE_ALGORITHM}`);
      const { kty, crv, x, y, kid } = key as PublicJwk;
      return { kty, crv, x, y, kid, alg: SERVICE_ALGORITHM, use: "sig" };
    }),
  };
}

/**
 * The providers of convex/auth.config.ts for Jangar's server: a Custom JWT
 * provider over JANGAR_SERVICE_JWKS (inline, as a data URI: nothing is
 * fetched), or none while the setting is unset or blank.
 */
export function serviceAuthProviders(setting: string | undefined): AuthProvider[] {
  if (setting === undefined || setting.trim() === "") {
    return [];
  }
  const jwks = JSON.stringify(parseServiceJwks(setting));
  return [
    {
      type: "customJwt",
      issuer: SERVICE_ISSUER,
      applicationID: SERVICE_AUDIENCE,
      algorithm: SERVICE_ALGORITHM,
      jwks: `data:text/plain;charset=utf-8;base64,${btoa(jwks)}`,
    },
  ];
}
