import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx } from "../../_generated/server";
import { invalidArgument } from "../platform/errors";
import type { ChangeOrigin } from "../platform/callers";
import { recordEvent } from "../events/record";
import { orderChanged } from "./shown";
import { takeLinkSlots } from "./linkCounts";
import { checkLink, findLink, linkKey, MAX_LINKS_PER_ORDER } from "./links";
import { indexLiveLinks } from "./liveIndex";
import type { WorkOrderLink } from "./shapes";
import { touchWorkOrder } from "./updatedAt";

export type LinkOutcome =
  | { link: WorkOrderLink; outcome: "added" | "existing"; linkId: Id<"work_order_links"> }
  /** Not added: the order already holds MAX_LINKS_PER_ORDER links. */
  | { link: WorkOrderLink; outcome: "full" };

/**
 * Links distinct, canonical issues, pull requests or commits to a work
 * order, each once: a link it already has is left as it is. Each link costs
 * one index lookup, however many links the order holds; `known` names rows
 * the caller has already read. The order itself is read (`orderOf`, as this
 * transaction has it) only when an issue or pull request is added, or an
 * event is recorded for a link added (each is one, unless a service added
 * it). The order's updatedAt is the caller's to move (touchWorkOrder), once
 * per transaction.
 */
export async function addLinks(
  ctx: MutationCtx,
  workOrderId: Id<"work_orders">,
  links: WorkOrderLink[],
  {
    known = new Map(),
    orderOf,
    origin,
  }: { known?: ReadonlyMap<string, Id<"work_order_links">>; orderOf: () => Promise<Doc<"work_orders"> | null>; origin: ChangeOrigin },
): Promise<LinkOutcome[]> {
  const existing: (Id<"work_order_links"> | null)[] = [];
  for (const link of links) {
    existing.push(known.get(linkKey(link)) ?? (await findLink(ctx, workOrderId, link))?._id ?? null);
  }
  let slots = await takeLinkSlots(ctx, workOrderId, existing.filter((linkId) => linkId === null).length);
  const outcomes: LinkOutcome[] = [];
  for (const [i, link] of links.entries()) {
    const linkId = existing[i];
    if (linkId !== null) {
      outcomes.push({ link, outcome: "existing", linkId });
    } else if (slots > 0) {
      slots -= 1;
      outcomes.push({ link, outcome: "added", linkId: await ctx.db.insert("work_order_links", { workOrderId, ...link }) });
    } else {
      outcomes.push({ link, outcome: "full" });
    }
  }
  const added = outcomes.flatMap((result) => (result.outcome === "added" ? [result.link] : []));
  if (added.some((link) => link.kind !== "commit") || (added.length > 0 && !origin.byService)) {
    const order = await orderOf();
    if (order !== null) {
      await indexLiveLinks(ctx, order, added);
      if (added.some((link) => link.kind === "pr")) {
        await orderChanged(ctx, order);
      }
      for (const link of added) {
        await recordEvent(ctx, origin, { type: "work_order.link.added", data: { workOrderId, sessionId: order.sessionId, ...link, source: origin.source } });
      }
    }
  }
  return outcomes;
}

/**
 * Links an issue, pull request or commit to a work order, once: adding it
 * again returns the existing row. An order at the cap refuses new links.
 */
export async function addLink(
  ctx: MutationCtx,
  order: Doc<"work_orders">,
  link: WorkOrderLink,
  origin: ChangeOrigin,
): Promise<Id<"work_order_links">> {
  const [result] = await addLinks(ctx, order._id, [checkLink(link)], { orderOf: async () => order, origin });
  if (result.outcome === "full") {
    throw invalidArgument(
      `Work order ${order._id} already holds ${MAX_LINKS_PER_ORDER} links, the most it may have; link the work to a new order instead.`,
    );
  }
  if (result.outcome === "added") {
    await touchWorkOrder(ctx, order);
  }
  return result.linkId;
}
