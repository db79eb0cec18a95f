import { describe, expect, test } from "vitest";
import { api } from "../../convex/_generated/api";
import { newBackend } from "../helpers/backend";
import { asService, asUser } from "../helpers/callers";
import { expectConvexError, expectNothingWritten, expectValidatorError } from "../helpers/assertions";
import { newSession, FIRST_PAGE } from "../helpers/records";


describe("chatSessions:create", () => {
  test("a user creates a session of its own, timestamped by the server", async () => {
    const t = newBackend();
    const before = Date.now();
    const sessionId = await asUser(t, "alice").mutation(api.chatSessions.create, {
      title: "Deploy the API",
    });
    const session = await asUser(t, "alice").query(api.chatSessions.get, { sessionId });
    expect(session).toMatchObject({ _id: sessionId, userId: "alice", title: "Deploy the API" });
    expect(session!.createdAt).toBeGreaterThanOrEqual(before);
    expect(session!.updatedAt).toBe(session!.createdAt);
  });

  test("a user may name itself as userId", async () => {
    const t = newBackend();
    const sessionId = await asUser(t, "alice").mutation(api.chatSessions.create, {
      title: "Mine",
      userId: "alice",
    });
    expect(await asUser(t, "alice").query(api.chatSessions.get, { sessionId })).not.toBeNull();
  });

  test("a service creates a session for the user it names", async () => {
    const t = newBackend();
    const sessionId = await asService(t).mutation(api.chatSessions.create, {
      title: "From the server",
      userId: "bob",
    });
    expect(await asUser(t, "bob").query(api.chatSessions.get, { sessionId })).toMatchObject({
      userId: "bob",
    });
  });

  test("without an identity the call fails UNAUTHENTICATED", async () => {
    const t = newBackend();
    await expectNothingWritten(t, () =>
      expectConvexError(t.mutation(api.chatSessions.create, { title: "x" }), "UNAUTHENTICATED"),
    );
  });

  test("a user may not create a session for another user", async () => {
    const t = newBackend();
    await expectNothingWritten(t, async () => {
      const error = await expectConvexError(
        asUser(t, "alice").mutation(api.chatSessions.create, { title: "x", userId: "bob" }),
        "INVALID_ARGUMENT",
      );
      expect(error.message).toMatch(/userId/);
    });
  });

  test("a service must say whose session it creates", async () => {
    const t = newBackend();
    await expectNothingWritten(t, () =>
      expectConvexError(asService(t).mutation(api.chatSessions.create, { title: "x" }), "INVALID_ARGUMENT"),
    );
  });

  test.each([
    ["empty", ""],
    ["blank", "   \n\t"],
    ["over 200 characters", "t".repeat(201)],
  ])("a title that is %s is refused with INVALID_ARGUMENT", async (_case, title) => {
    const t = newBackend();
    await expectNothingWritten(t, async () => {
      const error = await expectConvexError(
        asUser(t, "alice").mutation(api.chatSessions.create, { title }),
        "INVALID_ARGUMENT",
      );
      expect(error.message).toMatch(/title/);
    });
  });

  test("a service may not create a session for an empty or oversized userId", async () => {
    const t = newBackend();
    for (const userId of ["", "u".repeat(257)]) {
      await expectNothingWritten(t, () =>
        expectConvexError(
          asService(t).mutation(api.chatSessions.create, { title: "x", userId }),
          "INVALID_ARGUMENT",
        ),
      );
    }
  });
});

describe("chatSessions:list", () => {
  test("a user lists its own sessions, most recently updated first", async () => {
    const t = newBackend();
    const first = await newSession(t, "alice", "first");
    const second = await newSession(t, "alice", "second");
    await newSession(t, "bob", "not alice's");
    await asUser(t, "alice").mutation(api.chatMessages.append, {
      sessionId: first,
      role: "user",
      content: "bump",
    });
    const result = await asUser(t, "alice").query(api.chatSessions.list, { paginationOpts: FIRST_PAGE });
    expect(result.page.map((s) => s._id)).toEqual([first, second]);
    expect(result.isDone).toBe(true);
  });

  test("a user naming another user is refused INVALID_ARGUMENT, not answered with an empty page", async () => {
    const t = newBackend();
    await newSession(t, "bob");
    const error = await expectConvexError(
      asUser(t, "alice").query(api.chatSessions.list, { paginationOpts: FIRST_PAGE, userId: "bob" }),
      "INVALID_ARGUMENT",
    );
    expect(error.message).toMatch(/userId may only name yourself \(alice\).*JANGAR_SERVICE_IDENTITIES/);
  });

  test("a service lists the sessions of the user it names", async () => {
    const t = newBackend();
    const bobs = await newSession(t, "bob");
    await newSession(t, "alice");
    const result = await asService(t).query(api.chatSessions.list, {
      paginationOpts: FIRST_PAGE,
      userId: "bob",
    });
    expect(result.page.map((s) => s._id)).toEqual([bobs]);
  });

  test("a service that names no user is told to", async () => {
    const t = newBackend();
    const error = await expectConvexError(
      asService(t).query(api.chatSessions.list, { paginationOpts: FIRST_PAGE }),
      "INVALID_ARGUMENT",
    );
    expect(error.message).toMatch(/userId/);
  });

  test("without an identity the call fails UNAUTHENTICATED", async () => {
    const t = newBackend();
    await expectConvexError(t.query(api.chatSessions.list, { paginationOpts: FIRST_PAGE }), "UNAUTHENTICATED");
  });
});

describe("chatSessions:get", () => {
  test("another user's session behaves as missing, a service sees it", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "bob");
    expect(await asUser(t, "alice").query(api.chatSessions.get, { sessionId })).toBeNull();
    expect(await asService(t).query(api.chatSessions.get, { sessionId })).toMatchObject({ userId: "bob" });
  });

  test("a session that no longer exists is null", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    await t.run(async (ctx) => await ctx.db.delete("chat_sessions", sessionId));
    expect(await asUser(t, "alice").query(api.chatSessions.get, { sessionId })).toBeNull();
  });

  test("a malformed session id is refused by argument validation", async () => {
    const t = newBackend();
    await expectValidatorError(
      asUser(t, "alice").query(api.chatSessions.get, { sessionId: "not-an-id" as never }),
      /chat_sessions/,
    );
  });

  test("without an identity the call fails UNAUTHENTICATED", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    await expectConvexError(t.query(api.chatSessions.get, { sessionId }), "UNAUTHENTICATED");
  });
});
