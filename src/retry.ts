/**
 * Automatic retries of a delivery whose processing failed: after attempt n
 * (1-based) the next one runs RETRY_DELAYS_MS[n - 1] later; after the last,
 * the delivery stays failed until an operator replays it.
 */
export const RETRY_DELAYS_MS = [30_000, 2 * 60_000, 10 * 60_000, 60 * 60_000] as const;
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;

/** The delay before the attempt after `attemptsMade`, or null when none is left. */
export function retryDelayMs(attemptsMade: number): number | null {
  return attemptsMade >= 1 && attemptsMade < MAX_ATTEMPTS ? RETRY_DELAYS_MS[attemptsMade - 1] : null;
}
