import type { Backend } from "./backend";

export const SERVICE_ISSUER = "https://jangar.internal";
export const SERVICE_SUBJECT = "jangar-server";
export const SERVICE_TOKEN = `${SERVICE_ISSUER}|${SERVICE_SUBJECT}`;

/** Jangar's server, calling with the admin key acting as its service identity. */
export function asService(t: Backend) {
  return t.withIdentity({
    issuer: SERVICE_ISSUER,
    subject: SERVICE_SUBJECT,
    tokenIdentifier: SERVICE_TOKEN,
  });
}

/** A signed-in user of Jangar's UI. */
export function asUser(t: Backend, userId: string) {
  return t.withIdentity({
    issuer: "https://auth.jangar.test",
    subject: userId,
    tokenIdentifier: `https://auth.jangar.test|${userId}`,
  });
}
