import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from "jose";
import {
  parseServiceJwks,
  SERVICE_ALGORITHM,
  SERVICE_AUDIENCE,
  SERVICE_ISSUER,
  SERVICE_SUBJECT,
} from "../src/serviceIdentity";

/*
 * Jangar's server's tokens (docs/server.md#authentication): short-lived
 * ES256 JWTs it signs with JANGAR_SERVICE_KEY, which the deployment verifies
 * with the public keys in JANGAR_SERVICE_JWKS (convex/auth.config.ts).
 *
 *   const tokens = await serviceTokens(process.env.JANGAR_SERVICE_KEY!);
 *   await tokens.token();        // the service itself: https://jangar.internal|jangar-server
 *   await tokens.token("alice"); // acting for the user alice
 */

export const SERVICE_KEY_SETTING = "JANGAR_SERVICE_KEY";

/** How long a token is valid; Convex clients refresh it before it ends. */
const LIFETIME_SECONDS = 10 * 60;
/** A cached token is reused until this close to its end. */
const REFRESH_BEFORE_SECONDS = 2 * 60;

export type ServiceTokens = {
  /** A token for `subject` (default: the service itself), minted again when the last one nears its end. */
  token(subject?: string): Promise<string>;
  /** `ConvexClient.setAuth`'s token fetcher for `subject`. */
  fetcher(subject?: string): (args: { forceRefreshToken: boolean }) => Promise<string>;
  /** The key's id, as JANGAR_SERVICE_JWKS must list it. */
  readonly keyId: string;
};

function keyProblem(what: string): Error {
  return new Error(`${SERVICE_KEY_SETTING} ${what}. Set it to the "privateKey" that \`npm run service-key\` prints (a JSON Web Key with "d" and "kid").`);
}

/**
 * The tokens of the private key in JANGAR_SERVICE_KEY (JSON, a JWK with its
 * `kid`). `now` gives Unix milliseconds (tests move it).
 */
export async function serviceTokens(privateKey: string, options: { now?: () => number } = {}): Promise<ServiceTokens> {
  const now = options.now ?? Date.now;
  let jwk: JWK;
  try {
    jwk = JSON.parse(privateKey) as JWK;
  } catch {
    throw keyProblem("is not JSON");
  }
  if (typeof jwk !== "object" || jwk === null || jwk.kty !== "EC" || jwk.crv !== "P-256" || typeof jwk.d !== "string") {
    throw keyProblem("is not an EC P-256 private key");
  }
  if (typeof jwk.kid !== "string" || jwk.kid === "") {
    throw keyProblem('has no "kid"');
  }
  const keyId = jwk.kid;
  const key = await importJWK(jwk, SERVICE_ALGORITHM);
  const cached = new Map<string, { token: string; expiresAt: number }>();

  async function mint(subject: string): Promise<{ token: string; expiresAt: number }> {
    const issuedAt = Math.floor(now() / 1000);
    const expiresAt = issuedAt + LIFETIME_SECONDS;
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: SERVICE_ALGORITHM, kid: keyId, typ: "JWT" })
      .setIssuer(SERVICE_ISSUER)
      .setAudience(SERVICE_AUDIENCE)
      .setSubject(subject)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .sign(key);
    return { token, expiresAt };
  }

  async function token(subject: string = SERVICE_SUBJECT, fresh = false): Promise<string> {
    if (subject === "") {
      throw new TypeError("A token's subject cannot be empty.");
    }
    const last = cached.get(subject);
    if (!fresh && last !== undefined && last.expiresAt - REFRESH_BEFORE_SECONDS > now() / 1000) {
      return last.token;
    }
    const next = await mint(subject);
    cached.set(subject, next);
    return next.token;
  }

  return {
    keyId,
    token: (subject) => token(subject),
    fetcher: (subject) => async ({ forceRefreshToken }) => await token(subject, forceRefreshToken),
  };
}

/**
 * A new signing key: `privateKey` for Jangar's server (JANGAR_SERVICE_KEY),
 * `jwks` for the deployment (JANGAR_SERVICE_JWKS). During a rotation the
 * deployment lists both public keys (`mergeServiceJwks`).
 */
export async function generateServiceKey(): Promise<{ privateKey: string; jwks: string }> {
  const { privateKey } = await generateKeyPair(SERVICE_ALGORITHM, { extractable: true });
  const exported = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(exported);
  const { kty, crv, x, y } = exported;
  return {
    privateKey: JSON.stringify({ ...exported, kid, alg: SERVICE_ALGORITHM }),
    jwks: JSON.stringify({ keys: [{ kty, crv, x, y, kid, alg: SERVICE_ALGORITHM, use: "sig" }] }),
  };
}

/** Both key sets in one, for a rotation: the deployment accepts tokens of either key. */
export function mergeServiceJwks(current: string, next: string): string {
  const keys = [...parseServiceJwks(current).keys, ...parseServiceJwks(next).keys];
  return JSON.stringify({ keys: keys.filter((key, index) => keys.findIndex((other) => other.kid === key.kid) === index) });
}
