/**
 * convex-test runs one transaction at a time, but an action's own writes
 * (`ctx.storage.store` in an HTTP action) join whatever transaction is open
 * at that moment, and fail when it closes under them ("Write outside of
 * transaction"). So the embedded backend does one piece of work at a time:
 * each request, each cron run and each scheduled function waits for the one
 * before it to end.
 */

export type Serial = <T>(work: () => Promise<T>) => Promise<T>;

export function oneAtATime(): Serial {
  let previous: Promise<unknown> = Promise.resolve();
  return <T>(work: () => Promise<T>): Promise<T> => {
    const result = previous.then(work, work);
    previous = result.catch(() => undefined);
    return result;
  };
}

/**
 * Runs convex-test's scheduled functions through `serial`: convex-test
 * starts each on a `setTimeout` of its own (its `frameworkSetTimeout`), and
 * nothing else of it can be hooked, so those timers are recognised by their
 * caller and their callbacks queued; every other timer is left as it is.
 * `settled` waits for the scheduled function the callback started. Returns
 * how to put the global `setTimeout` back.
 */
export function serializeScheduledFunctions(serial: Serial, settled: () => Promise<void>): () => void {
  const original = globalThis.setTimeout;
  const patched = ((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    if (typeof callback !== "function" || !new Error().stack?.includes("frameworkSetTimeout")) {
      return original(callback, ms, ...args);
    }
    return original(() => {
      void serial(async () => {
        callback(...args);
        await settled();
      });
    }, ms);
  }) as typeof globalThis.setTimeout;
  globalThis.setTimeout = patched;
  return () => {
    if (globalThis.setTimeout === patched) {
      globalThis.setTimeout = original;
    }
  };
}
