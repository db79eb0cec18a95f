import { v } from "convex/values";
import { internalMutation } from "./_generated/server";
import { checkAlerts } from "./model/alerts/notice";

/**
 * Operator alerts to SLACK_ALERTS_CHANNEL (docs/operations.md#alerts). Most
 * are queued by the transaction that notices their condition; this cron
 * tells what only time shows: the oldest failure past an hour or a day, and
 * orders the reconciler failed while their condition was quiet.
 *
 * ```sh
 * npx convex run alerts:check     # what the cron runs every 5 minutes
 * ```
 */
export const check = internalMutation({
  args: {},
  returns: v.null(),
  handler: async (ctx) => {
    await checkAlerts(ctx);
    return null;
  },
});
