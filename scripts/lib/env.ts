import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseEnv } from "node:util";

/**
 * The settings the command-line tools read, layered as the Convex CLI layers
 * them: the process environment first, then `.env.local`, then `.env`, a file
 * never overriding a variable already present (even empty).
 */

export type Env = Readonly<Record<string, string | undefined>>;

/** Where a variable came from, so that a message can name the place to fix it. */
export type Origin = "the environment" | ".env.local" | ".env";

export type LoadedEnv = { values: Env; origin: Readonly<Record<string, Origin>> };

export const ENV_FILES = [".env.local", ".env"] as const;

export function loadEnv(processEnv: Env = process.env, dir = "."): LoadedEnv {
  const values: Record<string, string | undefined> = { ...processEnv };
  const origin: Record<string, Origin> = Object.fromEntries(
    Object.keys(processEnv).map((name) => [name, "the environment" as const]),
  );
  for (const file of ENV_FILES) {
    const path = join(dir, file);
    if (!existsSync(path)) {
      continue;
    }
    for (const [name, value] of Object.entries(parseEnv(readFileSync(path, "utf8")))) {
      if (!(name in values)) {
        values[name] = value;
        origin[name] = file;
      }
    }
  }
  return { values, origin };
}

/** A variable's value, trimmed, or undefined when it is unset or blank (the Convex CLI's reading). */
export function valueOf(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/** `NAME (in .env.local)`: a variable with where it was found, for messages. */
export function named(loaded: LoadedEnv, name: string): string {
  const from = loaded.origin[name];
  return from === undefined || from === "the environment" ? name : `${name} (in ${from})`;
}
