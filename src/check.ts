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
