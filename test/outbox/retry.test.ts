import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { delayRange, nextAttempt, retryDelayMs, retryPolicy, type RetryPolicy } from "../../src/retry";

/*
 * The one retry policy (src/retry.ts) that the inbox, the outbox and the
 * launcher share: backoff with jitter, a cap, a floor, Retry-After honoured,
 * and an end by attempts or by age.
 */

const MINUTE = 60_000;

const inboxLike = retryPolicy({ initialMs: 30_000, factor: 5, maxDelayMs: 60 * MINUTE, maxAttempts: 5 });

describe("a policy", () => {
  test("waits longer after each failure, up to its cap, and gives up after its last attempt", () => {
    expect([1, 2, 3, 4].map((n) => delayRange(inboxLike, n).maxMs)).toEqual([30_000, 150_000, 750_000, 3_600_000]);
    expect(nextAttempt(inboxLike, { attemptsMade: 4, now: 0, random: 0.5 })).toEqual({ retryInMs: expect.any(Number) });
    expect(nextAttempt(inboxLike, { attemptsMade: 5, now: 0, random: 0.5 })).toEqual({ giveUp: "gave up after 5 attempts" });
  });

  test("takes a random share of at most `jitter` off the computed wait, never going under its floor", () => {
    expect(retryDelayMs(inboxLike, 1, { random: 0 })).toBe(30_000);
    expect(retryDelayMs(inboxLike, 1, { random: 0.999999 })).toBe(22_500);
    expect(delayRange(inboxLike, 1)).toEqual({ minMs: 22_500, maxMs: 30_000 });
    const floored = retryPolicy({ initialMs: 1_000, maxDelayMs: 10_000, jitter: 1, maxAttempts: 3 });
    expect(retryDelayMs(floored, 1, { random: 0.999999 })).toBe(1_000);
  });

  test("honours a Retry-After in place of the computed wait, up to its cap", () => {
    expect(retryDelayMs(inboxLike, 3, { random: 0.3, retryAfterMs: 7_000 })).toBe(7_000);
    expect(retryDelayMs(inboxLike, 1, { random: 0.3, retryAfterMs: 5 * 60 * MINUTE })).toBe(60 * MINUTE);
    expect(retryDelayMs(inboxLike, 1, { random: 0.3, retryAfterMs: 0 })).toBe(1_000);
  });

  test("with a maximum age, retries until the first attempt is that old, whatever the count", () => {
    const day = retryPolicy({ initialMs: 1_000, factor: 2, maxDelayMs: 60 * MINUTE, maxAgeMs: 24 * 60 * MINUTE });
    expect(nextAttempt(day, { attemptsMade: 500, firstAttemptAt: 0, now: 23 * 60 * MINUTE, random: 0 })).toEqual({ retryInMs: 60 * MINUTE });
    expect(nextAttempt(day, { attemptsMade: 40, firstAttemptAt: 0, now: 24 * 60 * MINUTE, random: 0 })).toEqual({
      giveUp: "gave up after 40 attempts over 24 h",
    });
  });

  test.each([
    [{ initialMs: 0, maxDelayMs: 10, maxAttempts: 3 }, /minDelayMs <= initialMs/],
    [{ initialMs: 5_000, maxDelayMs: 1_000, maxAttempts: 3 }, /initialMs <= maxDelayMs/],
    [{ initialMs: 5_000, maxDelayMs: 10_000, factor: 0.5, maxAttempts: 3 }, /factor >= 1/],
    [{ initialMs: 5_000, maxDelayMs: 10_000, jitter: 2, maxAttempts: 3 }, /jitter from 0 to 1/],
    [{ initialMs: 5_000, maxDelayMs: 10_000 }, /needs an end/],
    [{ initialMs: 5_000, maxDelayMs: 10_000, maxAttempts: 0 }, /maxAttempts is a whole number/],
  ])("a policy that cannot work is a TypeError naming what to fix (%j)", (policy, message) => {
    expect(() => retryPolicy(policy)).toThrow(TypeError);
    expect(() => retryPolicy(policy)).toThrow(message);
  });
});

const policies: fc.Arbitrary<RetryPolicy> = fc
  .record({
    minDelayMs: fc.integer({ min: 0, max: 5_000 }),
    extraInitial: fc.integer({ min: 0, max: 60_000 }),
    extraMax: fc.integer({ min: 0, max: 24 * 60 * MINUTE }),
    factor: fc.double({ min: 1, max: 10, noNaN: true }),
    jitter: fc.double({ min: 0, max: 1, noNaN: true }),
    maxAttempts: fc.integer({ min: 1, max: 30 }),
  })
  .map(({ minDelayMs, extraInitial, extraMax, factor, jitter, maxAttempts }) =>
    retryPolicy({ minDelayMs, initialMs: minDelayMs + extraInitial, maxDelayMs: minDelayMs + extraInitial + extraMax, factor, jitter, maxAttempts }),
  );

describe("properties", () => {
  const random = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
  const attempts = fc.integer({ min: 1, max: 60 });

  test("every wait is within the policy's bounds for that attempt, never under the floor nor over the cap", () => {
    fc.assert(
      fc.property(policies, attempts, random, (policy, attemptsMade, share) => {
        const delay = retryDelayMs(policy, attemptsMade, { random: share });
        const { minMs, maxMs } = delayRange(policy, attemptsMade);
        expect(delay).toBeGreaterThanOrEqual(minMs);
        expect(delay).toBeLessThanOrEqual(maxMs);
        expect(delay).toBeGreaterThanOrEqual(policy.minDelayMs);
        expect(delay).toBeLessThanOrEqual(policy.maxDelayMs);
      }),
      { numRuns: 500 },
    );
  });

  test("the longest wait never shrinks from one attempt to the next", () => {
    fc.assert(
      fc.property(policies, attempts, (policy, attemptsMade) => {
        expect(delayRange(policy, attemptsMade + 1).maxMs).toBeGreaterThanOrEqual(delayRange(policy, attemptsMade).maxMs);
      }),
      { numRuns: 300 },
    );
  });

  test("a Retry-After is honoured up to the cap: the wait is at least what was asked (or the cap), and never under the floor", () => {
    fc.assert(
      fc.property(policies, attempts, random, fc.integer({ min: 0, max: 48 * 60 * MINUTE }), (policy, attemptsMade, share, retryAfterMs) => {
        const delay = retryDelayMs(policy, attemptsMade, { random: share, retryAfterMs });
        expect(delay).toBeGreaterThanOrEqual(Math.min(retryAfterMs, policy.maxDelayMs));
        expect(delay).toBeLessThanOrEqual(Math.max(retryAfterMs, policy.minDelayMs));
        expect(delay).toBeGreaterThanOrEqual(policy.minDelayMs);
        expect(delay).toBeLessThanOrEqual(policy.maxDelayMs);
      }),
      { numRuns: 500 },
    );
  });

  test("attempts stop exactly at maxAttempts", () => {
    fc.assert(
      fc.property(policies, attempts, random, (policy, attemptsMade, share) => {
        const next = nextAttempt(policy, { attemptsMade, now: 0, random: share });
        expect("giveUp" in next).toBe(attemptsMade >= policy.maxAttempts!);
      }),
      { numRuns: 300 },
    );
  });
});
