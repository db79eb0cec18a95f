/**
 * Pagination walks every row once, in the contract's order: a user's chat
 * sessions most recently updated first, a session's messages oldest first,
 * its work orders newest first. Pages are followed through continueCursor
 * until isDone, at several page sizes.
 */
import type { PaginationOptions } from "convex/server";
import { beforeEach, describe, expect, test, vi } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { newBackend, type Backend } from "../helpers/backend";
import { asService, asUser } from "../helpers/callers";
import { withFakeClock } from "../helpers/clock";

const PAGE_SIZES = [1, 5, 7, 100];

// The server's clock is driven by the test so that every write gets its own
// timestamp and the expected order is known in advance.
const START = Date.UTC(2025, 0, 6, 9, 0, 0);
let now = START;

/** Moves the server's clock forward and returns the new time. */
function tick(ms = 1000): number {
  now += ms;
  vi.setSystemTime(now);
  return now;
}

withFakeClock({ toFake: ["Date"] });
beforeEach(() => {
  now = START;
  vi.setSystemTime(now);
});

type Page<T> = { page: T[]; isDone: boolean; continueCursor: string };

/** Every row of a paginated query, page by page, following continueCursor until isDone. */
async function walkPages<T>(
  numItems: number,
  fetchPage: (paginationOpts: PaginationOptions) => Promise<Page<T>>,
  expectedRows: number,
): Promise<T[]> {
  const rows: T[] = [];
  let cursor: string | null = null;
  // One page per row at most, plus a last, possibly empty, page.
  for (let pages = 0; pages <= expectedRows + 1; pages += 1) {
    const result = await fetchPage({ numItems, cursor });
    expect(result.page.length).toBeLessThanOrEqual(numItems);
    rows.push(...result.page);
    if (result.isDone) {
      return rows;
    }
    cursor = result.continueCursor;
  }
  throw new Error(`pages of ${numItems} did not end after ${expectedRows + 2} pages`);
}

function ids(rows: { _id: string }[]): string[] {
  return rows.map((row) => row._id);
}

async function append(t: Backend, sessionId: Id<"chat_sessions">, content: string) {
  return await asService(t).mutation(api.chatMessages.append, { sessionId, role: "user", content });
}

async function createWorkOrder(t: Backend, sessionId: Id<"chat_sessions">, title: string) {
  return await asService(t).mutation(api.workOrders.create, {
    sessionId,
    workflowType: "codex-implement",
    prompt: "Make the login page accept SSO.",
    title,
  });
}

describe("chatSessions:list", () => {
  /**
   * 29 sessions of alice, with bob's sessions written in between, then some of
   * alice's touched again by a message: the expected order is by last write.
   */
  async function aliceAndBobSessions(t: Backend) {
    const lastWrite = new Map<Id<"chat_sessions">, number>();
    const bobs: Id<"chat_sessions">[] = [];
    for (let i = 0; i < 29; i += 1) {
      const at = tick();
      const sessionId = await asUser(t, "alice").mutation(api.chatSessions.create, { title: `alice ${i}` });
      lastWrite.set(sessionId, at);
      if (i % 3 === 0) {
        tick();
        bobs.push(await asUser(t, "bob").mutation(api.chatSessions.create, { title: `bob ${i}` }));
      }
    }
    const alices = [...lastWrite.keys()];
    for (const index of [3, 17, 0, 28, 3, 11]) {
      const at = tick();
      await append(t, alices[index], `touch ${index}`);
      lastWrite.set(alices[index], at);
    }
    await append(t, bobs[0], "bob is busy too");
    const mostRecentFirst = [...lastWrite.entries()].sort(([, a], [, b]) => b - a).map(([id]) => id);
    return { lastWrite, mostRecentFirst, bobs };
  }

  test.each(PAGE_SIZES)(
    "pages of %i give each of the user's sessions once, most recently updated first, and none of another user's",
    async (numItems) => {
      const t = newBackend();
      const { lastWrite, mostRecentFirst } = await aliceAndBobSessions(t);

      const rows = await walkPages(
        numItems,
        (paginationOpts) => asUser(t, "alice").query(api.chatSessions.list, { paginationOpts }),
        mostRecentFirst.length,
      );
      expect(ids(rows)).toEqual(mostRecentFirst);
      // The order comes from the server's own timestamps.
      expect(rows.map((row) => row.updatedAt)).toEqual(mostRecentFirst.map((id) => lastWrite.get(id)));

      const namingItself = await walkPages(
        numItems,
        (paginationOpts) =>
          asUser(t, "alice").query(api.chatSessions.list, { paginationOpts, userId: "alice" }),
        mostRecentFirst.length,
      );
      expect(ids(namingItself)).toEqual(mostRecentFirst);
    },
  );

  test.each(PAGE_SIZES)("a service pages through the sessions of the user it names, in pages of %i", async (numItems) => {
    const t = newBackend();
    const { mostRecentFirst, bobs } = await aliceAndBobSessions(t);

    const alices = await walkPages(
      numItems,
      (paginationOpts) => asService(t).query(api.chatSessions.list, { paginationOpts, userId: "alice" }),
      mostRecentFirst.length,
    );
    expect(ids(alices)).toEqual(mostRecentFirst);

    // bob's first session got the last message; the others keep their creation order.
    const bobsOrder = [bobs[0], ...bobs.slice(1).reverse()];
    const bobsRows = await walkPages(
      numItems,
      (paginationOpts) => asService(t).query(api.chatSessions.list, { paginationOpts, userId: "bob" }),
      bobs.length,
    );
    expect(ids(bobsRows)).toEqual(bobsOrder);
  });
});

describe("chatMessages:listBySession", () => {
  /** 37 messages in one session of alice, with messages of her other session in between. */
  async function interleavedMessages(t: Backend) {
    const sessionId = await asUser(t, "alice").mutation(api.chatSessions.create, { title: "Deploy" });
    const otherSessionId = await asUser(t, "alice").mutation(api.chatSessions.create, { title: "Other" });
    const oldestFirst: Id<"chat_messages">[] = [];
    const createdAt: number[] = [];
    for (let i = 0; i < 37; i += 1) {
      createdAt.push(tick());
      oldestFirst.push(await append(t, sessionId, `message ${i}`));
      if (i % 2 === 0) {
        tick();
        await append(t, otherSessionId, `elsewhere ${i}`);
      }
    }
    return { sessionId, oldestFirst, createdAt };
  }

  test.each(PAGE_SIZES)(
    "pages of %i give each message of the session once, oldest first, and none of another session",
    async (numItems) => {
      const t = newBackend();
      const { sessionId, oldestFirst, createdAt } = await interleavedMessages(t);

      for (const caller of [asUser(t, "alice"), asService(t)]) {
        const rows = await walkPages(
          numItems,
          (paginationOpts) => caller.query(api.chatMessages.listBySession, { sessionId, paginationOpts }),
          oldestFirst.length,
        );
        expect(ids(rows)).toEqual(oldestFirst);
        expect(rows.map((row) => row.createdAt)).toEqual(createdAt);
      }
    },
  );

  test.each(PAGE_SIZES)(
    "messages appended within the same millisecond still come once each, in append order, in pages of %i",
    async (numItems) => {
      const t = newBackend();
      const sessionId = await asUser(t, "alice").mutation(api.chatSessions.create, { title: "Burst" });
      const oldestFirst: Id<"chat_messages">[] = [];
      tick();
      for (let i = 0; i < 23; i += 1) {
        oldestFirst.push(await append(t, sessionId, `burst ${i}`));
      }
      const rows = await walkPages(
        numItems,
        (paginationOpts) => asUser(t, "alice").query(api.chatMessages.listBySession, { sessionId, paginationOpts }),
        oldestFirst.length,
      );
      expect(new Set(rows.map((row) => row.createdAt))).toEqual(new Set([now]));
      expect(ids(rows)).toEqual(oldestFirst);
    },
  );

  test("another user's session gives a user an empty, finished page", async () => {
    const t = newBackend();
    const { sessionId } = await interleavedMessages(t);
    expect(
      await asUser(t, "bob").query(api.chatMessages.listBySession, {
        sessionId,
        paginationOpts: { numItems: 5, cursor: null },
      }),
    ).toEqual({ page: [], isDone: true, continueCursor: "" });
  });
});

describe("workOrders:listBySession", () => {
  /** 23 work orders in one session of alice, with work orders of bob's session in between. */
  async function interleavedWorkOrders(t: Backend) {
    const sessionId = await asUser(t, "alice").mutation(api.chatSessions.create, { title: "SSO" });
    const bobsSessionId = await asUser(t, "bob").mutation(api.chatSessions.create, { title: "Bob's" });
    const oldestFirst: Id<"work_orders">[] = [];
    for (let i = 0; i < 23; i += 1) {
      tick();
      oldestFirst.push(await createWorkOrder(t, sessionId, `order ${i}`));
      if (i % 4 === 1) {
        tick();
        await createWorkOrder(t, bobsSessionId, `bob's order ${i}`);
      }
    }
    return { sessionId, newestFirst: [...oldestFirst].reverse() };
  }

  test.each(PAGE_SIZES)(
    "pages of %i give each work order of the session once, newest first, and none of another session",
    async (numItems) => {
      const t = newBackend();
      const { sessionId, newestFirst } = await interleavedWorkOrders(t);

      for (const caller of [asUser(t, "alice"), asService(t)]) {
        const rows = await walkPages(
          numItems,
          (paginationOpts) => caller.query(api.workOrders.listBySession, { sessionId, paginationOpts }),
          newestFirst.length,
        );
        expect(ids(rows)).toEqual(newestFirst);
        const createdAt = rows.map((row) => row.createdAt);
        expect(createdAt).toEqual([...createdAt].sort((a, b) => b - a));
        expect(new Set(createdAt).size).toBe(createdAt.length);
      }
    },
  );

  test("another user's session gives a user an empty, finished page", async () => {
    const t = newBackend();
    const { sessionId } = await interleavedWorkOrders(t);
    expect(
      await asUser(t, "bob").query(api.workOrders.listBySession, {
        sessionId,
        paginationOpts: { numItems: 5, cursor: null },
      }),
    ).toEqual({ page: [], isDone: true, continueCursor: "" });
  });
});
