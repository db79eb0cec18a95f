import { v } from "convex/values";
import { internal } from "../_generated/api";
import { internalAction, internalMutation, internalQuery } from "../_generated/server";
import type { GithubApp } from "../../src/github/app";
import { githubApp } from "../../src/github/app";
import { deliveriesPath, nextCursor, readDeliveries, REDELIVERY_WINDOW_MS, unanswered, type HookDelivery } from "../../src/github/hookDeliveries";
import { githubAppConfig } from "../model/platform/config";

/**
 * No GitHub delivery lost (docs/contract.md#github-both-ways-the-app-comments-in-replies-and-check-runs-out):
 * GitHub never retries a delivery on its own, so every 15 minutes this
 * sweep lists the App's hook deliveries (`GET /app/hook/deliveries`, as the
 * App: its JWT) twice over: the newest attempts of every kind (those
 * recorded with no status code, a timeout's 0, are found only so), then
 * the failed ones alone (`status=failure`: 400-599) back through the 3 days,
 * so that a busy App's successes do not hide an older failure. It asks once
 * for a redelivery
 * (`POST /app/hook/deliveries/{id}/attempts`) of each one of the last 3 days
 * that no attempt got a 2xx for and whose GUID the inbox does not hold.
 * Each ask is recorded in github_redeliveries, so that none is asked twice.
 * A rate limit (or GitHub unreachable) stops the sweep; the next one goes
 * on from the listing. Without the App's id and key it does nothing.
 *
 * ```sh
 * npx convex run inbox/githubRedeliveries:sweep    # what the cron runs every 15 minutes
 * ```
 *
 * A cron action rather than an outbox lane (docs/architecture.md#no-delivery-lost-the-apps-redelivery-sweep):
 * what to ask for is known only from GitHub's listing, which the next sweep
 * reads again, so an ask that was not made (a crash, a rate limit) is found
 * again without a queue; and these requests are the App's own, under its
 * JWT and its own rate limit, not an installation's.
 */

// Pages of 100 attempts read per sweep, newest first: of every kind (at 67 a minute and over, not back
// to the previous sweep), then failures alone (3,000 failed attempts of the 3 days); and redeliveries asked.
const RECENT_PAGES = 10;
const FAILURE_PAGES = 30;
const MAX_ASKS = 100;
// GUIDs looked up per query: two index lookups each.
const LOOKUP_CHUNK = 200;
// Records older than the window, deleted per sweep.
const FORGOTTEN_PER_SWEEP = 200;

const vSweepOutcome = v.object({
  // Attempts GitHub listed, and deliveries asked for (GitHub accepted) or refused by GitHub (a 4xx, recorded too).
  listed: v.number(),
  redelivered: v.number(),
  refused: v.number(),
  // Why the sweep did nothing or stopped early: the App unset or malformed, a rate limit, GitHub unreachable.
  stopped: v.optional(v.string()),
});

/** The GUIDs, among these, that the inbox does not hold and no sweep asked for. */
export const notReceived = internalQuery({
  args: { guids: v.array(v.string()) },
  returns: v.array(v.string()),
  handler: async (ctx, { guids }) => {
    const missing = [];
    for (const guid of guids.slice(0, LOOKUP_CHUNK)) {
      const received = await ctx.db
        .query("webhook_deliveries")
        .withIndex("by_deliveryGuid", (q) => q.eq("deliveryGuid", guid))
        .first();
      const asked = received === null ? await ctx.db.query("github_redeliveries").withIndex("by_guid", (q) => q.eq("guid", guid)).first() : null;
      if (received === null && asked === null) {
        missing.push(guid);
      }
    }
    return missing;
  },
});

/** A redelivery asked for, whatever GitHub answered: it is not asked again. */
export const recordAsked = internalMutation({
  args: { guid: v.string(), deliveryId: v.number(), event: v.string(), outcome: v.union(v.literal("asked"), v.literal("refused")), error: v.optional(v.string()) },
  returns: v.null(),
  handler: async (ctx, args) => {
    const known = await ctx.db.query("github_redeliveries").withIndex("by_guid", (q) => q.eq("guid", args.guid)).first();
    if (known === null) {
      await ctx.db.insert("github_redeliveries", { ...args, askedAt: Date.now() });
    }
    return null;
  },
});

/** Records older than the window: GitHub no longer lists their deliveries. */
export const forgetOld = internalMutation({
  args: {},
  returns: v.null(),
  handler: async (ctx) => {
    const old = await ctx.db
      .query("github_redeliveries")
      .withIndex("by_askedAt", (q) => q.lt("askedAt", Date.now() - REDELIVERY_WINDOW_MS))
      .take(FORGOTTEN_PER_SWEEP);
    for (const row of old) {
      await ctx.db.delete("github_redeliveries", row._id);
    }
    return null;
  },
});

export const sweep = internalAction({
  args: {},
  returns: vSweepOutcome,
  handler: async (ctx) => {
    const settings = githubAppConfig();
    if (settings === null) {
      return { listed: 0, redelivered: 0, refused: 0, stopped: "GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY are not set: nothing to sweep." };
    }
    if (!settings.ok) {
      return { listed: 0, redelivered: 0, refused: 0, stopped: settings.message };
    }
    const app = githubApp(settings.value);
    const now = Date.now();
    // An attempt both listings name is counted once.
    const byId = new Map<number, HookDelivery>();
    for (const [status, pages] of [["all", RECENT_PAGES], ["failure", FAILURE_PAGES]] as const) {
      const listing = await listAttempts(app, status, pages, now);
      for (const delivery of listing.attempts) byId.set(delivery.id, delivery);
      if (listing.error !== undefined) {
        // Nothing is asked on a partial listing: the next sweep lists again.
        return { listed: byId.size, redelivered: 0, refused: 0, stopped: `Listing the App's deliveries: ${listing.error}` };
      }
    }
    const listed = [...byId.values()];
    const candidates = unanswered(listed, now);
    const missing = new Set<string>();
    for (let i = 0; i < candidates.length; i += LOOKUP_CHUNK) {
      const guids = candidates.slice(i, i + LOOKUP_CHUNK).map((delivery) => delivery.guid);
      for (const guid of await ctx.runQuery(internal.inbox.githubRedeliveries.notReceived, { guids })) {
        missing.add(guid);
      }
    }
    let redelivered = 0;
    let refused = 0;
    let stopped: string | undefined;
    for (const delivery of candidates.filter((candidate) => missing.has(candidate.guid)).slice(0, MAX_ASKS)) {
      const answer = await app.request({ method: "POST", path: `/app/hook/deliveries/${delivery.id}/attempts`, auth: "app" });
      if (answer.kind === "retry") {
        // A rate limit, or GitHub unreachable: the rest waits for the next sweep.
        stopped = `Asking for a redelivery: ${answer.error}`;
        break;
      }
      const { guid, id: deliveryId, event } = delivery;
      const outcome = answer.kind === "ok" ? ("asked" as const) : ("refused" as const);
      await ctx.runMutation(internal.inbox.githubRedeliveries.recordAsked, { guid, deliveryId, event, outcome, error: answer.kind === "failed" ? answer.error : undefined });
      if (outcome === "asked") redelivered += 1;
      else refused += 1;
    }
    await ctx.runMutation(internal.inbox.githubRedeliveries.forgetOld, {});
    if (redelivered + refused > 0 || stopped !== undefined) {
      console.log(`githubRedeliveries: ${listed.length} attempts listed, ${redelivered} redeliveries asked, ${refused} refused${stopped === undefined ? "" : `; stopped: ${stopped}`}`);
    }
    return { listed: listed.length, redelivered, refused, stopped };
  },
});

/** One listing's attempts, newest first, by cursor until it passes the 3 days, its last page, or `pages`; `error` if GitHub did not answer a page. */
async function listAttempts(app: GithubApp, status: "all" | "failure", pages: number, now: number): Promise<{ attempts: HookDelivery[]; error?: string }> {
  const attempts: HookDelivery[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < pages; page++) {
    const answer = await app.request({ method: "GET", path: deliveriesPath(status, cursor), auth: "app" });
    if (answer.kind !== "ok") {
      return { attempts, error: answer.error };
    }
    const deliveries = readDeliveries(answer.body);
    attempts.push(...deliveries);
    cursor = nextCursor(answer.link);
    if (cursor === null || deliveries.length === 0 || deliveries.some((delivery) => now - delivery.deliveredAt > REDELIVERY_WINDOW_MS)) {
      break;
    }
  }
  return { attempts };
}
