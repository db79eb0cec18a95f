import type { DocumentByInfo, GenericTableInfo, PaginationOptions, PaginationResult, Query } from "convex/server";

// A page holds at most MAX_PAGE_ITEMS rows, and ends early once it has read
// MAX_PAGE_BYTES, whatever the caller asks: a page of large messages would
// otherwise pass Convex's 16 MiB read limit (about 52 of the largest).
export const MAX_PAGE_ITEMS = 100;
export const MAX_PAGE_BYTES = 8 * 1024 * 1024;

/** The caller's pagination options within this deployment's bounds; the cursor is kept. */
export function boundedPage(options: PaginationOptions): PaginationOptions {
  const asked = Number.isFinite(options.numItems) ? Math.floor(options.numItems) : MAX_PAGE_ITEMS;
  return {
    ...options,
    numItems: Math.min(Math.max(asked, 1), MAX_PAGE_ITEMS),
    maximumBytesRead: Math.min(options.maximumBytesRead ?? MAX_PAGE_BYTES, MAX_PAGE_BYTES),
  };
}

/** One page of an index range, in `order`, within this deployment's bounds: how every public list reads. */
export async function pageOf<T extends GenericTableInfo>(
  range: Query<T>,
  order: "asc" | "desc",
  options: PaginationOptions,
): Promise<PaginationResult<DocumentByInfo<T>>> {
  return await range.order(order).paginate(boundedPage(options));
}
