/** The outcome of checking a caller-supplied value: the canonical value, or what is wrong with it. */
export type Check<T> = { ok: true; value: T } | { ok: false; message: string };

export function accept<T>(value: T): Check<T> {
  return { ok: true, value };
}

export function reject<T = never>(message: string): Check<T> {
  return { ok: false, message };
}

/** One of a fixed set of values (a role, a status, a link kind), or what the choices are. */
export function oneOf<const T extends string>(field: string, value: string, allowed: readonly T[]): Check<T> {
  return (allowed as readonly string[]).includes(value)
    ? accept(value as T)
    : reject(`${field} must be one of ${allowed.join(", ")}; got ${JSON.stringify(value)}.`);
}

/** The values of several checks under their names, or the message of the first that failed. */
export function allOf<const T extends Record<string, Check<unknown>>>(checks: T): Check<{ [K in keyof T]: T[K] extends Check<infer V> ? V : never }> {
  const values: Record<string, unknown> = {};
  for (const [name, check] of Object.entries(checks)) {
    if (!check.ok) {
      return check;
    }
    values[name] = check.value;
  }
  return accept(values as { [K in keyof T]: T[K] extends Check<infer V> ? V : never });
}
