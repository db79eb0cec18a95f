import type { AuthConfig } from "convex/server";
import { SERVICE_JWKS_SETTING, serviceAuthProviders } from "../src/serviceIdentity";

/*
 * Who may sign in (docs/server.md#authentication): Jangar's server, with
 * tokens it signs itself, verified by the public keys in
 * JANGAR_SERVICE_JWKS. Convex evaluates this file on every push and every
 * change of a setting; a JANGAR_SERVICE_JWKS that is not a public key set
 * fails the push (or the `npx convex env set`) with a message naming it.
 * To let Jangar's UI call with its users' own tokens, add their provider here.
 */

// Convex sets process.env to the deployment's settings while it evaluates this file (convex/ has no Node types).
declare const process: { env: Record<string, string | undefined> };

/** A setting, or undefined when unset: while Convex evaluates this file, reading an unset variable throws. */
function optionalSetting(name: string): string | undefined {
  try {
    return process.env[name];
  } catch {
    return undefined;
  }
}

export default {
  providers: serviceAuthProviders(optionalSetting(SERVICE_JWKS_SETTING)),
} satisfies AuthConfig;
