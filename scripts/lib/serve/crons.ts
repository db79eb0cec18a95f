/**
 * The deployment's crons (convex/crons.ts), run by the embedded backend on
 * their schedules in real time: convex-test registers them but never runs
 * them. Intervals run every period from the start; hourly and daily jobs at
 * their UTC minute. A run that fails is logged and the job runs again next
 * time, as on a real deployment.
 */

export type CronJob = { name: string; args: unknown[]; schedule: Schedule };

type Schedule =
  | { type: "interval"; seconds?: number; minutes?: number; hours?: number }
  | { type: "hourly"; minuteUTC: number }
  | { type: "daily"; hourUTC: number; minuteUTC: number }
  | { type: "weekly" | "monthly" | "cron" };

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** How long from `now` until the job's next run, or null for a schedule this runner does not keep. */
export function msUntilNextRun(schedule: Schedule, now: number): number | null {
  switch (schedule.type) {
    case "interval":
      return (schedule.seconds ?? 0) * SECOND + (schedule.minutes ?? 0) * MINUTE + (schedule.hours ?? 0) * HOUR;
    case "hourly":
      return untilNext(now, HOUR, schedule.minuteUTC * MINUTE);
    case "daily":
      return untilNext(now, DAY, schedule.hourUTC * HOUR + schedule.minuteUTC * MINUTE);
    case "weekly":
    case "monthly":
    case "cron":
      return null;
  }
}

/** Time until the next instant at `offset` into a period of `period` (UTC, from the epoch). */
function untilNext(now: number, period: number, offset: number): number {
  const into = (((now - offset) % period) + period) % period;
  return into === 0 ? period : period - into;
}

/** The jobs of convex/crons.ts's default export. */
export function cronJobsOf(cronsModule: unknown): Record<string, CronJob> {
  const crons = (cronsModule as { default?: { crons?: Record<string, CronJob> } }).default?.crons;
  return crons ?? {};
}

export type CronRunner = { stop: () => void; skipped: string[] };

/**
 * Runs each job on its schedule with `run(functionPath, args)`; returns how
 * to stop, and the jobs whose schedule it does not keep.
 */
export function runCrons(
  jobs: Record<string, CronJob>,
  run: (functionPath: string, args: unknown) => Promise<void>,
  log: (line: string) => void,
  now: () => number = Date.now,
): CronRunner {
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const skipped: string[] = [];
  let stopped = false;
  const plan = (identifier: string, job: CronJob) => {
    const wait = msUntilNextRun(job.schedule, now());
    if (wait === null) {
      skipped.push(identifier);
      return;
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (stopped) return;
      run(job.name, job.args[0] ?? {})
        .catch((error: unknown) => log(`cron "${identifier}" (${job.name}) failed: ${error instanceof Error ? error.message : String(error)}`))
        .finally(() => {
          if (!stopped) plan(identifier, job);
        });
    }, wait);
    timer.unref?.();
    timers.add(timer);
  };
  for (const [identifier, job] of Object.entries(jobs)) {
    plan(identifier, job);
  }
  return {
    skipped,
    stop: () => {
      stopped = true;
      timers.forEach((timer) => clearTimeout(timer));
      timers.clear();
    },
  };
}
