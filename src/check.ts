/** The outcome of checking a caller-supplied value: the canonical value, or what is wrong with it. */
export type Check<T> = { ok: true; value: T } | { ok: false; message: string };

export function accept<T>(value: T): Check<T> {
  return { ok: true, value };
}

export function reject<T = never>(message: string): Check<T> {
  return { ok: false, message };
}
