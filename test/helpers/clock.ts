import { afterEach, beforeEach, vi } from "vitest";
import type { Backend } from "./backend";

/** The fake clock, and the scheduled functions that run on it. */

export const MINUTE = 60 * 1000;

// Deliveries, the outbox's runners and their retries: more scheduled runs than convex-test's default allows.
export const OUTBOX_ITERATIONS = 2000;

/**
 * For a test file whose tests run on a fake clock (scheduled functions run
 * when a test settles them): fake timers before each test; after it, real
 * ones, and the environment, globals and spies as they were.
 */
export function withFakeClock(options?: Parameters<typeof vi.useFakeTimers>[0]) {
  beforeEach(() => {
    vi.useFakeTimers(options);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllEnvs();
    vi.unstubAllGlobals();
    vi.restoreAllMocks();
  });
}

/** Runs every scheduled function (processing, retries, runners) to the end. */
export async function settle(t: Backend, maxIterations?: number) {
  await t.finishAllScheduledFunctions(() => vi.runAllTimers(), maxIterations);
}

/** Runs the scheduled functions due after `ms` more milliseconds, without those they schedule. */
export async function runDue(t: Backend, ms = 0) {
  vi.advanceTimersByTime(ms);
  await t.finishInProgressScheduledFunctions();
}
