import type { FakeCheckRun, FakeHookDelivery } from "./githubTypes";

/*
 * Which items `FakeGitHub`'s lists keep for a query, as GitHub filters them,
 * and a page of them.
 */

/** The statuses a check run may be listed by. */
export const CHECK_RUN_STATUSES = new Set(["queued", "in_progress", "completed"]);

/** GET /app/hook/deliveries?status=: the status codes each value keeps (docs.github.com/rest/apps/webhooks#list-deliveries-for-an-app-webhook). */
export const HOOK_DELIVERY_STATUSES = new Map<string, readonly [number, number]>([
  ["success", [200, 399]],
  ["failure", [400, 599]],
]);

/** A commit's check runs, newest first, by name and status when asked; `latest` keeps the newest run of each name only. */
export function checkRunsOnCommit(
  runs: FakeCheckRun[],
  repository: string,
  ref: string,
  { name, status, latest, ofApp }: { name?: string; status?: string; latest: boolean; ofApp: boolean },
): FakeCheckRun[] {
  const onCommit = runs
    .filter((run) => ofApp && run.repository === repository && run.head_sha === ref)
    .filter((run) => (name === undefined || run.name === name) && (status === undefined || run.status === status))
    .reverse();
  return latest ? onCommit.filter((run, index) => onCommit.findIndex((other) => other.name === run.name) === index) : onCommit;
}

/** The hook deliveries newest first whose status code is within `range`. */
export function deliveriesWithin(deliveries: FakeHookDelivery[], range: readonly [number, number]): FakeHookDelivery[] {
  return [...deliveries].reverse().filter((delivery) => delivery.status_code >= range[0] && delivery.status_code <= range[1]);
}

/** One page of a list (`per_page` up to 100, default 30; `page` from 1). */
export function pageOf<T>(items: T[], query: Record<string, string>): T[] {
  const perPage = Math.min(Number(query.per_page ?? 30), 100);
  const page = Math.max(Number(query.page ?? 1), 1);
  return items.slice((page - 1) * perPage, page * perPage);
}
