import fc from "fast-check";

/**
 * Property runs (fast-check) that print their seed and number of runs; rerun
 * a failure with FC_SEED=<seed> (FC_NUM_RUNS for more runs).
 */

const SEED = Number(process.env.FC_SEED ?? Math.floor(Math.random() * 0x7fffffff));

/** The number of runs: `standard`, or FC_NUM_RUNS when set. */
export const runs = (standard: number) => Number(process.env.FC_NUM_RUNS ?? standard);

/** Stop at the first failure rather than shrink it (for properties whose cases are costly to shrink). */
type Options = { endOnFailure?: boolean };

export function check<T>(name: string, property: fc.IPropertyWithHooks<T> | fc.IProperty<T>, numRuns: number, options?: Options): void;
export function check<T>(name: string, property: fc.IAsyncPropertyWithHooks<T> | fc.IAsyncProperty<T>, numRuns: number, options?: Options): Promise<void>;
export function check<T>(name: string, property: fc.IRawProperty<T>, numRuns: number, options: Options = {}) {
  console.info(`${name}: seed=${SEED} numRuns=${numRuns} (rerun with FC_SEED=${SEED})`);
  return fc.assert(property, { ...options, seed: SEED, numRuns });
}
