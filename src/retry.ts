/**
 * One retry policy for everything this service tries again: processing a
 * delivery (the inbox), a request to another service (the outbox), asking
 * Temporal to cancel a run (the launcher). A policy is data; this module is
 * pure: the caller hands in the time and a random number.
 *
 * ```ts
 * const policy = retryPolicy({ initialMs: 30_000, factor: 5, maxDelayMs: 3_600_000, maxAttempts: 5 });
 * const next = nextAttempt(policy, { attemptsMade: 1, now: Date.now(), random: Math.random() });
 * // { retryInMs: 22_500 to 30_000 }, or { giveUp: "gave up after 5 attempts" } once they are spent
 * ```
 *
 * The wait after the n-th failed attempt is `initialMs * factor^(n-1)`, at
 * most `maxDelayMs`, less a random share of at most `jitter` (so that
 * attempts that failed together do not all come back together), and never
 * under `minDelayMs`. A Retry-After the other side sent replaces it, up to
 * `maxDelayMs`.
 */

export type RetryPolicy = {
  /** The wait after the first failed attempt, before jitter. */
  initialMs: number;
  /** Each later wait is this many times the one before (1: always the same wait). */
  factor: number;
  /** The longest wait, computed or asked for with Retry-After. */
  maxDelayMs: number;
  /** The shortest wait, jitter and Retry-After included. */
  minDelayMs: number;
  /** The share of a computed wait taken off at random, from 0 (none) to 1 (any of it). */
  jitter: number;
  /** No attempt after this many (the first included). */
  maxAttempts?: number;
  /** No attempt once this long has passed since the first. */
  maxAgeMs?: number;
};

const DEFAULTS = { factor: 2, minDelayMs: 1_000, jitter: 0.25 };

/**
 * A policy, checked: waits that are positive and ordered, a jitter between
 * 0 and 1, and an end (a number of attempts, an age, or both). A policy is
 * written in code, so a wrong one is a TypeError at load.
 */
export function retryPolicy(policy: Partial<typeof DEFAULTS> & Omit<RetryPolicy, keyof typeof DEFAULTS>): RetryPolicy {
  const checked = { ...DEFAULTS, ...policy };
  const { initialMs, factor, maxDelayMs, minDelayMs, jitter, maxAttempts, maxAgeMs } = checked;
  if (!(minDelayMs >= 0 && initialMs >= minDelayMs && maxDelayMs >= initialMs)) {
    throw new TypeError(`A retry policy needs 0 <= minDelayMs <= initialMs <= maxDelayMs (got ${minDelayMs}, ${initialMs}, ${maxDelayMs}).`);
  }
  if (!(factor >= 1) || !(jitter >= 0 && jitter <= 1)) {
    throw new TypeError(`A retry policy needs factor >= 1 and jitter from 0 to 1 (got ${factor}, ${jitter}).`);
  }
  if (maxAttempts === undefined && maxAgeMs === undefined) {
    throw new TypeError("A retry policy needs an end: maxAttempts, maxAgeMs, or both.");
  }
  if ((maxAttempts !== undefined && !(Number.isInteger(maxAttempts) && maxAttempts >= 1)) || (maxAgeMs !== undefined && !(maxAgeMs >= 0))) {
    throw new TypeError(`A retry policy's maxAttempts is a whole number from 1, its maxAgeMs at least 0 (got ${maxAttempts}, ${maxAgeMs}).`);
  }
  return checked;
}

/** The wait after `attemptsMade` failed attempts (1-based) before jitter: the curve, capped. */
function backoffMs(policy: RetryPolicy, attemptsMade: number): number {
  const exponent = Math.max(0, attemptsMade - 1);
  return Math.max(policy.minDelayMs, Math.min(policy.maxDelayMs, Math.round(policy.initialMs * policy.factor ** exponent)));
}

/** The shortest and longest computed wait after `attemptsMade` failed attempts (without Retry-After). */
export function delayRange(policy: RetryPolicy, attemptsMade: number): { minMs: number; maxMs: number } {
  const maxMs = backoffMs(policy, attemptsMade);
  return { minMs: Math.max(policy.minDelayMs, Math.ceil(maxMs * (1 - policy.jitter))), maxMs };
}

/** The wait before the next attempt: Retry-After when the other side sent one, else the jittered curve; within the policy's bounds. */
export function retryDelayMs(policy: RetryPolicy, attemptsMade: number, { random, retryAfterMs }: { random: number; retryAfterMs?: number }): number {
  if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs)) {
    return Math.min(policy.maxDelayMs, Math.max(policy.minDelayMs, Math.ceil(retryAfterMs)));
  }
  const { minMs, maxMs } = delayRange(policy, attemptsMade);
  const share = Math.min(Math.max(random, 0), 1);
  return Math.max(minMs, Math.round(maxMs * (1 - policy.jitter * share)));
}

/** Why no attempt follows, or null while one may: the attempts are spent, or the first is too long ago. */
export function retriesSpent(policy: RetryPolicy, { attemptsMade, firstAttemptAt, now }: { attemptsMade: number; firstAttemptAt?: number; now: number }): string | null {
  if (policy.maxAttempts !== undefined && attemptsMade >= policy.maxAttempts) {
    return `gave up after ${attemptsMade} attempts`;
  }
  if (policy.maxAgeMs !== undefined && firstAttemptAt !== undefined && now - firstAttemptAt >= policy.maxAgeMs) {
    return `gave up after ${attemptsMade} attempts over ${formatDuration(now - firstAttemptAt)}`;
  }
  return null;
}

export type NextAttempt = { retryInMs: number } | { giveUp: string };

/**
 * What follows a failed attempt: the next one, this long from now, or none
 * (and why). `attemptsMade` counts the failed one; `random` is a number in
 * [0, 1) (`Math.random()`); `retryAfterMs` is what the other side asked for.
 */
export function nextAttempt(
  policy: RetryPolicy,
  failure: { attemptsMade: number; now: number; firstAttemptAt?: number; random: number; retryAfterMs?: number },
): NextAttempt {
  const spent = retriesSpent(policy, failure);
  return spent === null ? { retryInMs: retryDelayMs(policy, failure.attemptsMade, failure) } : { giveUp: spent };
}

/** A duration as operators read it: `45 s`, `12 min`, `26 h`. */
function formatDuration(ms: number): string {
  if (ms < 60_000) {
    return `${Math.round(ms / 1000)} s`;
  }
  return ms < 2 * 60 * 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / (60 * 60_000))} h`;
}
