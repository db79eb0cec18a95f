/**
 * How many rows an operator's call reads: the number asked for, as a whole
 * number from 1 to `max`, or `fallback` when none (or no number) is given.
 */
export function pageSize(requested: number | undefined, { fallback, max }: { fallback: number; max: number }): number {
  if (requested === undefined || !Number.isFinite(requested)) {
    return fallback;
  }
  return Math.min(Math.max(1, Math.floor(requested)), max);
}
