import { describe, expect, test, vi } from "vitest";
import { api, internal } from "../convex/_generated/api";
import { parseEvent } from "../client/events";
import { newBackend, type Backend } from "./helpers/backend";
import { asService, asUser } from "./helpers/callers";
import { expectConvexError } from "./helpers/assertions";
import { withFakeClock } from "./helpers/clock";
import { FIRST_PAGE, newSession } from "./helpers/records";

/*
 * Events out, read (docs/server.md#following-events-out-eventslist): every
 * event is kept, whether or not JANGAR_EVENTS_URL is set (it is not here),
 * and services page through them with events:list, in order, for
 * DELIVERY_RETENTION_DAYS.
 */

const MINUTE = 60_000;

withFakeClock({ now: new Date("2025-05-14T09:00:00Z") });

async function keptEvents(t: Backend) {
  return await t.run(async (ctx) => await ctx.db.query("events").collect());
}

describe("events:list", () => {
  test("a service pages through every event in order, or one session's; a user is refused, naming JANGAR_SERVICE_IDENTITIES", async () => {
    const t = newBackend();
    const first = await newSession(t, "alice");
    const second = await newSession(t, "alice");
    for (const [sessionId, content] of [[first, "1"], [second, "2"], [first, "3"], [second, "4"], [first, "5"]] as const) {
      await asUser(t, "alice").mutation(api.chatMessages.append, { sessionId, role: "user", content });
      vi.advanceTimersByTime(1);
    }
    const contents = (page: { event: unknown }[]) =>
      page.map(({ event }) => {
        const parsed = parseEvent(event);
        return parsed.type === "chat.message.created" ? parsed.data.content : null;
      });
    const service = asService(t);
    const pageOne = await service.query(api.events.list, { paginationOpts: { numItems: 2, cursor: null } });
    const pageTwo = await service.query(api.events.list, { paginationOpts: { numItems: 10, cursor: pageOne.continueCursor } });
    expect([contents(pageOne.page), pageOne.isDone, contents(pageTwo.page), pageTwo.isDone]).toEqual([["1", "2"], false, ["3", "4", "5"], true]);
    const onlyFirst = await service.query(api.events.list, { sessionId: first, paginationOpts: FIRST_PAGE });
    expect(contents(onlyFirst.page)).toEqual(["1", "3", "5"]);
    // The id is the webhook-id the same event is sent with.
    const events = await keptEvents(t);
    expect([...pageOne.page, ...pageTwo.page].map((item) => item.id)).toEqual(events.map((row) => row._id));

    const refusal = await expectConvexError(asUser(t, "alice").query(api.events.list, { paginationOpts: FIRST_PAGE }), "INVALID_ARGUMENT");
    expect(refusal.message).toMatch(/services only.*JANGAR_SERVICE_IDENTITIES/s);
  });

  test("events older than DELIVERY_RETENTION_DAYS are purged by the daily job; younger ones stay", async () => {
    vi.stubEnv("DELIVERY_RETENTION_DAYS", "1");
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    await asUser(t, "alice").mutation(api.chatMessages.append, { sessionId, role: "user", content: "old" });
    vi.advanceTimersByTime(25 * 60 * MINUTE);
    await asUser(t, "alice").mutation(api.chatMessages.append, { sessionId, role: "user", content: "new" });
    expect(await t.mutation(internal.events.purgeExpired, {})).toBe(1);
    const events = await keptEvents(t);
    expect(events.map((row) => (row.data as { content: string }).content)).toEqual(["new"]);
  });
});
