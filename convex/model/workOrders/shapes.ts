import type { Infer } from "convex/values";
import schema from "../../schema";

/*
 * An order's parts as callers give them and the join returns them, picked
 * from the schema's tables: the one shape that args, targets, links, the
 * launch input and the live index all speak of.
 */

/** An arg: its name and its value. */
export const vArg = schema.tables.work_order_args.validator.pick("name", "value");
export type WorkOrderArg = Infer<typeof vArg>;

/** A target: a repository and a branch. */
export const vTarget = schema.tables.work_order_targets.validator.pick("targetRepo", "targetBranch");
export type WorkOrderTarget = Infer<typeof vTarget>;

/** A link: an issue, a pull request or a commit. */
export const vLink = schema.tables.work_order_links.validator.pick("kind", "value");
export type WorkOrderLink = Infer<typeof vLink>;
