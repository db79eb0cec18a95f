import { env } from "../_generated/server";

/**
 * The deployment's settings (CONTRACT.md section 6), read when a function
 * runs so that `npx convex env set` takes effect without a redeploy.
 */

/** tokenIdentifiers of the identities that act as Jangar's server. */
export function serviceIdentities(): Set<string> {
  return new Set(
    (env.JANGAR_SERVICE_IDENTITIES ?? "")
      .split(",")
      .map((entry) => entry.trim())
      .filter((entry) => entry.length > 0),
  );
}
