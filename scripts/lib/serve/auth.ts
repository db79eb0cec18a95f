/**
 * Who a call to the embedded backend's functions API comes from, read from
 * its `Authorization` header as `ConvexHttpClient` sends it:
 *
 *   Bearer <JWT>                         a user's or a service's token (`setAuth`)
 *   Convex <admin key>                   the admin (`setAdminAuth(key)`, `npx convex run`)
 *   Convex <admin key>:<base64 JSON>     the admin acting as an identity (`setAdminAuth(key, identity)`)
 *
 * Development only: a JWT is decoded, never verified; its `iss` and `sub`
 * are the identity, as a real deployment's auth provider would make them.
 */

import type { UserIdentity } from "convex/server";

export type Identity = UserIdentity;

export type Caller = { admin: boolean; identity: Identity | null };

/** A header that names no one the backend accepts: the status and the error to answer. */
export class AuthRefused extends Error {
  constructor(
    readonly code: "InvalidAuthHeader" | "BadAdminKey",
    message: string,
  ) {
    super(message);
    this.name = "AuthRefused";
  }
}

export function callerOf(authorization: string | undefined, adminKey: string): Caller {
  if (authorization === undefined || authorization.trim() === "") {
    return { admin: false, identity: null };
  }
  const [scheme, ...rest] = authorization.trim().split(" ");
  const credentials = rest.join(" ").trim();
  if (scheme === "Bearer") {
    return { admin: false, identity: identityOfJwt(credentials) };
  }
  if (scheme === "Convex") {
    const separator = credentials.lastIndexOf(":");
    const hasIdentity = separator > credentials.lastIndexOf("|");
    const key = hasIdentity ? credentials.slice(0, separator) : credentials;
    if (key !== adminKey) {
      throw new AuthRefused("BadAdminKey", "The admin key is not this embedded backend's: use the one its banner prints (npm run serve).");
    }
    return { admin: true, identity: hasIdentity ? actingAs(credentials.slice(separator + 1)) : null };
  }
  throw new AuthRefused("InvalidAuthHeader", `Authorization must be "Bearer <JWT>" or "Convex <admin key>", not "${scheme} ...".`);
}

function withTokenIdentifier(claims: Record<string, unknown>, issuer: unknown, subject: unknown, where: string): Identity {
  if (typeof issuer !== "string" || issuer === "" || typeof subject !== "string" || subject === "") {
    throw new AuthRefused("InvalidAuthHeader", `${where} needs a non-empty issuer ("iss") and subject ("sub").`);
  }
  const tokenIdentifier = typeof claims.tokenIdentifier === "string" ? claims.tokenIdentifier : `${issuer}|${subject}`;
  return { ...(claims as Partial<UserIdentity>), issuer, subject, tokenIdentifier };
}

/** A JWT's payload, unverified: `sub` and `iss` make the identity. */
function identityOfJwt(token: string): Identity {
  const parts = token.split(".");
  if (parts.length !== 3) {
    throw new AuthRefused("InvalidAuthHeader", "The bearer token is not a JWT (three dot-separated parts).");
  }
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(decodeBase64(parts[1], true)) as Record<string, unknown>;
  } catch {
    throw new AuthRefused("InvalidAuthHeader", "The bearer token's payload is not base64url-encoded JSON.");
  }
  if (typeof claims !== "object" || claims === null) {
    throw new AuthRefused("InvalidAuthHeader", "The bearer token's payload is not a JSON object.");
  }
  const { iss, sub, ...rest } = claims;
  return withTokenIdentifier(rest, iss, sub, "The bearer token");
}

/** The identity `setAdminAuth(key, identity)` sends: base64 of its UTF-8 JSON. */
function actingAs(encoded: string): Identity {
  let identity: Record<string, unknown>;
  try {
    identity = JSON.parse(decodeBase64(encoded, false)) as Record<string, unknown>;
  } catch {
    throw new AuthRefused("InvalidAuthHeader", "The acting-as identity after the admin key is not base64-encoded JSON.");
  }
  if (typeof identity !== "object" || identity === null) {
    throw new AuthRefused("InvalidAuthHeader", "The acting-as identity is not a JSON object.");
  }
  return withTokenIdentifier(identity, identity.issuer, identity.subject, "The acting-as identity");
}

function decodeBase64(text: string, url: boolean): string {
  const standard = url ? text.replaceAll("-", "+").replaceAll("_", "/") : text;
  const padded = standard + "=".repeat((4 - (standard.length % 4)) % 4);
  return new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(atob(padded), (char) => char.charCodeAt(0)));
}

/** An unsigned JWT (`alg: none`) for `iss` and `sub`: what a development client may pass to `setAuth`. */
export function unsignedJwt(claims: { iss: string; sub: string } & Record<string, unknown>): string {
  const encode = (value: unknown) =>
    btoa(String.fromCodePoint(...new TextEncoder().encode(JSON.stringify(value))))
      .replaceAll("+", "-")
      .replaceAll("/", "_")
      .replace(/=+$/, "");
  return `${encode({ alg: "none", typ: "JWT" })}.${encode(claims)}.`;
}
