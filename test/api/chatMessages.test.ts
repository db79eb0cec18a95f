import { describe, expect, test } from "vitest";
import { api } from "../../convex/_generated/api";
import { newBackend } from "../helpers/backend";
import { asService, asUser } from "../helpers/callers";
import { expectConvexError, expectNothingWritten } from "../helpers/assertions";
import { newSession, FIRST_PAGE } from "../helpers/records";


describe("chatMessages:append", () => {
  test("appends to the user's own session and bumps the session's updatedAt", async () => {
    const t = newBackend();
    const alice = asUser(t, "alice");
    const sessionId = await newSession(t, "alice");
    const created = await alice.query(api.chatSessions.get, { sessionId });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const messageId = await alice.mutation(api.chatMessages.append, {
      sessionId,
      role: "user",
      content: "Please add SSO 🔐",
      metadata: { source: "ui", attachments: [{ name: "spec.md", bytes: 1024 }] },
    });
    const page = await alice.query(api.chatMessages.listBySession, { sessionId, paginationOpts: FIRST_PAGE });
    expect(page.page).toEqual([
      expect.objectContaining({
        _id: messageId,
        sessionId,
        role: "user",
        content: "Please add SSO 🔐",
        metadata: { source: "ui", attachments: [{ name: "spec.md", bytes: 1024 }] },
      }),
    ]);
    const session = await alice.query(api.chatSessions.get, { sessionId });
    expect(session!.updatedAt).toBe(page.page[0].createdAt);
    expect(session!.updatedAt).toBeGreaterThan(created!.updatedAt);
  });

  test("a service appends assistant and system messages to any session", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    for (const role of ["assistant", "system"] as const) {
      await asService(t).mutation(api.chatMessages.append, { sessionId, role, content: `${role} says hi` });
    }
    const page = await asUser(t, "alice").query(api.chatMessages.listBySession, {
      sessionId,
      paginationOpts: FIRST_PAGE,
    });
    expect(page.page.map((m) => [m.role, m.content])).toEqual([
      ["assistant", "assistant says hi"],
      ["system", "system says hi"],
    ]);
  });

  test("another user's session behaves as missing: NOT_FOUND, nothing written", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "bob");
    await expectNothingWritten(t, () =>
      expectConvexError(
        asUser(t, "alice").mutation(api.chatMessages.append, { sessionId, role: "user", content: "hi" }),
        "NOT_FOUND",
      ),
    );
  });

  test("a session that no longer exists is NOT_FOUND", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    await t.run(async (ctx) => await ctx.db.delete("chat_sessions", sessionId));
    await expectConvexError(
      asService(t).mutation(api.chatMessages.append, { sessionId, role: "user", content: "hi" }),
      "NOT_FOUND",
    );
  });

  test("without an identity the call fails UNAUTHENTICATED", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    await expectNothingWritten(t, () =>
      expectConvexError(
        t.mutation(api.chatMessages.append, { sessionId, role: "user", content: "hi" }),
        "UNAUTHENTICATED",
      ),
    );
  });

  test("an unknown role is INVALID_ARGUMENT naming the roles", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    await expectNothingWritten(t, async () => {
      const error = await expectConvexError(
        asUser(t, "alice").mutation(api.chatMessages.append, { sessionId, role: "tool", content: "hi" }),
        "INVALID_ARGUMENT",
      );
      expect(error.message).toBe('role must be one of user, assistant, system; got "tool".');
    });
  });

  test.each([
    ["empty", ""],
    ["blank", " \n "],
    ["over 256 KiB of UTF-8", "é".repeat(128 * 1024 + 1)],
  ])("content that is %s is refused with INVALID_ARGUMENT", async (_case, content) => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    await expectNothingWritten(t, async () => {
      const error = await expectConvexError(
        asUser(t, "alice").mutation(api.chatMessages.append, { sessionId, role: "user", content }),
        "INVALID_ARGUMENT",
      );
      expect(error.message).toMatch(/content/);
    });
  });

  test("content that is half of an emoji (a lone surrogate) is refused by Convex at the call (its strings are UTF-8), nothing written", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    await expectNothingWritten(t, async () => {
      await expect(asUser(t, "alice").mutation(api.chatMessages.append, { sessionId, role: "user", content: "deploy \uD83D failed" })).rejects.toThrow(
        /The arguments of chatMessages:append: String .* is not valid Unicode/,
      );
    });
  });

  test("metadata over 64 KiB is refused with INVALID_ARGUMENT", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    await expectNothingWritten(t, async () => {
      const error = await expectConvexError(
        asUser(t, "alice").mutation(api.chatMessages.append, {
          sessionId,
          role: "user",
          content: "hi",
          metadata: { blob: "x".repeat(64 * 1024) },
        }),
        "INVALID_ARGUMENT",
      );
      expect(error.message).toMatch(/metadata/);
    });
  });
});

describe("chatMessages:listBySession", () => {
  test("another user's session gives an empty page; a service sees it", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "bob");
    await asUser(t, "bob").mutation(api.chatMessages.append, { sessionId, role: "user", content: "secret" });
    const alices = await asUser(t, "alice").query(api.chatMessages.listBySession, {
      sessionId,
      paginationOpts: FIRST_PAGE,
    });
    expect(alices).toMatchObject({ page: [], isDone: true });
    const services = await asService(t).query(api.chatMessages.listBySession, {
      sessionId,
      paginationOpts: FIRST_PAGE,
    });
    expect(services.page.map((m) => m.content)).toEqual(["secret"]);
  });

  test("without an identity the call fails UNAUTHENTICATED", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    await expectConvexError(
      t.query(api.chatMessages.listBySession, { sessionId, paginationOpts: FIRST_PAGE }),
      "UNAUTHENTICATED",
    );
  });
});
