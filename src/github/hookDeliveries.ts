/*
 * The App's hook deliveries, as `GET /app/hook/deliveries` lists them
 * (newest first, paged by cursor; all of them, or with `status=failure`
 * those answered 400-599 only), and which of them the sweep asks GitHub
 * to redeliver (docs/contract.md#github-both-ways-the-app-comments-in-replies-and-check-runs-out):
 * those of the last 3 days that no attempt got a 2xx for. Pure: the
 * sweep (convex/inbox/githubRedeliveries.ts) lists and asks, and leaves out what the
 * inbox holds or was asked for already.
 */

/** How far back the sweep looks: GitHub keeps deliveries for redelivery this long. */
export const REDELIVERY_WINDOW_MS = 3 * 24 * 60 * 60_000;

/** One attempt GitHub lists: `id` names the attempt (what a redelivery is asked of), `guid` the delivery. */
export type HookDelivery = { id: number; guid: string; deliveredAt: number; statusCode: number; event: string };

const GUID = /^[A-Za-z0-9-]{1,64}$/;

/** A page's attempts, each of the form GitHub gives; anything else is left out (the page is GitHub's, but read one way, bounded). */
export function readDeliveries(body: unknown): HookDelivery[] {
  if (!Array.isArray(body)) {
    return [];
  }
  const deliveries: HookDelivery[] = [];
  for (const item of body.slice(0, 100)) {
    const { id, guid, delivered_at: at, status_code: statusCode, event } = (typeof item === "object" && item !== null ? item : {}) as Record<string, unknown>;
    const deliveredAt = typeof at === "string" ? Date.parse(at) : NaN;
    if (Number.isSafeInteger(id) && typeof guid === "string" && GUID.test(guid) && Number.isFinite(deliveredAt) && typeof statusCode === "number") {
      deliveries.push({ id: id as number, guid, deliveredAt, statusCode, event: typeof event === "string" ? event.slice(0, 100) : "" });
    }
  }
  return deliveries;
}

/** A page of the listing: `failure` keeps the attempts GitHub recorded with a status code of 400-599; `all` keeps every attempt. */
export function deliveriesPath(status: "all" | "failure", cursor: string | null): `/${string}` {
  const filter = status === "failure" ? "&status=failure" : "";
  const after = cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`;
  return `/app/hook/deliveries?per_page=100${filter}${after}`;
}

/** The `cursor` of the next page, from GitHub's `link` header (`<...&cursor=v1_7>; rel="next"`); null on the last page. */
export function nextCursor(link: string | undefined): string | null {
  for (const part of (link ?? "").split(",").slice(0, 10)) {
    const match = /<([^>]{1,2000})>\s*;\s*rel="next"/.exec(part);
    const cursor = match === null ? null : new URL(match[1], "https://api.github.com").searchParams.get("cursor");
    if (cursor !== null && /^[A-Za-z0-9_=-]{1,200}$/.test(cursor)) {
      return cursor;
    }
  }
  return null;
}

/**
 * The deliveries to ask again, one attempt each (the newest): delivered in
 * the window, and not one of their attempts answered 2xx.
 */
export function unanswered(deliveries: HookDelivery[], now: number): HookDelivery[] {
  const answered = new Set(deliveries.filter((delivery) => delivery.statusCode >= 200 && delivery.statusCode < 300).map((delivery) => delivery.guid));
  const chosen = new Map<string, HookDelivery>();
  for (const delivery of deliveries) {
    const current = chosen.get(delivery.guid);
    if (!answered.has(delivery.guid) && now - delivery.deliveredAt <= REDELIVERY_WINDOW_MS && (current === undefined || current.deliveredAt < delivery.deliveredAt)) {
      chosen.set(delivery.guid, delivery);
    }
  }
  return [...chosen.values()];
}
