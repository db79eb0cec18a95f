import { afterEach, describe, expect, test, vi } from "vitest";
import { api } from "../../convex/_generated/api";
import { newBackend, type Backend } from "../helpers/backend";
import { asService, SERVICE_ISSUER, SERVICE_SUBJECT, SERVICE_TOKEN } from "../helpers/callers";
import { expectConvexError, expectNothingWritten } from "../helpers/assertions";
import { FIRST_PAGE, newSession, newWorkOrder } from "../helpers/records";

/*
 * Jangar's server with JANGAR_SERVICE_IDENTITIES missing or mistyped
 * (docs/contract.md#the-service-client): it acts as the user `jangar-server`,
 * and every refusal it meets names the setting and its tokenIdentifier, so
 * that the fix is in the message. A list is refused, never an empty page.
 */

afterEach(() => {
  vi.unstubAllEnvs();
});

/** Jangar's server, calling with its own identity, whatever the deployment lists. */
const asServer = (t: Backend) =>
  t.withIdentity({ issuer: SERVICE_ISSUER, subject: SERVICE_SUBJECT, tokenIdentifier: SERVICE_TOKEN });

/** The fix, as every refusal of a misconfigured server says it. */
const NAMES_THE_FIX = new RegExp(
  `tokenIdentifier "${SERVICE_TOKEN.replace(/[.|]/g, "\\$&")}" is not listed in JANGAR_SERVICE_IDENTITIES.*add that tokenIdentifier to JANGAR_SERVICE_IDENTITIES`,
);

/** Alice's session with an order in it, made while the server was still listed. */
async function alicesOrder(t: Backend) {
  const sessionId = await newSession(t, "alice");
  const workOrderId = await newWorkOrder(t, sessionId);
  return { sessionId, workOrderId };
}

describe.each([
  ["missing", ""],
  ["mistyped (another issuer)", "http://jangar.internal|jangar-server"],
  ["listing someone else", "https://other.example|unrelated"],
])("JANGAR_SERVICE_IDENTITIES %s: the server's calls are refused with the setting and its tokenIdentifier named", (_label, setting) => {
  const misconfigure = () => vi.stubEnv("JANGAR_SERVICE_IDENTITIES", setting);

  test("chatSessions:list naming a user is INVALID_ARGUMENT, not an empty page", async () => {
    const t = newBackend();
    await newSession(t, "alice");
    misconfigure();
    const error = await expectConvexError(
      asServer(t).query(api.chatSessions.list, { paginationOpts: FIRST_PAGE, userId: "alice" }),
      "INVALID_ARGUMENT",
    );
    expect(error.message).toMatch(/^userId may only name yourself \(jangar-server\)/);
    expect(error.message).toMatch(NAMES_THE_FIX);
  });

  test("chatSessions:create naming userId is INVALID_ARGUMENT naming userId, and writes nothing", async () => {
    const t = newBackend();
    misconfigure();
    await expectNothingWritten(t, async () => {
      const error = await expectConvexError(
        asServer(t).mutation(api.chatSessions.create, { title: "Deploy", userId: "alice" }),
        "INVALID_ARGUMENT",
      );
      expect(error.message).toMatch(/^userId may only name yourself \(jangar-server\)/);
      expect(error.message).toMatch(NAMES_THE_FIX);
    });
  });

  test("workOrders:create naming requestedBy is INVALID_ARGUMENT naming requestedBy, and writes nothing", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "jangar-server");
    misconfigure();
    await expectNothingWritten(t, async () => {
      const error = await expectConvexError(
        asServer(t).mutation(api.workOrders.create, { sessionId, workflowType: "codex", prompt: "p", title: "t", requestedBy: "alice" }),
        "INVALID_ARGUMENT",
      );
      expect(error.message).toMatch(/^requestedBy may only name yourself/);
      expect(error.message).toMatch(NAMES_THE_FIX);
    });
  });

  test("every mutation on a user's records is NOT_FOUND naming the setting, and writes nothing", async () => {
    const t = newBackend();
    const { sessionId, workOrderId } = await alicesOrder(t);
    misconfigure();
    const server = asServer(t);
    const calls = {
      "chatMessages:append": () => server.mutation(api.chatMessages.append, { sessionId, role: "assistant", content: "On it." }),
      "workOrders:create": () => server.mutation(api.workOrders.create, { sessionId, workflowType: "codex", prompt: "p", title: "t" }),
      "workOrders:updateStatus": () => server.mutation(api.workOrders.updateStatus, { workOrderId, status: "accepted" }),
      "workOrderArgs:upsert": () => server.mutation(api.workOrderArgs.upsert, { workOrderId, name: "model", value: "gpt" }),
      "workOrderTargets:upsert": () => server.mutation(api.workOrderTargets.upsert, { workOrderId, targetRepo: "acme/api", targetBranch: "main" }),
      "workOrderLinks:add": () => server.mutation(api.workOrderLinks.add, { workOrderId, kind: "commit", value: "a".repeat(40) }),
    };
    for (const [name, call] of Object.entries(calls)) {
      await expectNothingWritten(t, async () => {
        const error = await expectConvexError(call(), "NOT_FOUND");
        expect(error.message, name).toMatch(/does not exist or is not yours/);
        expect(error.message, name).toMatch(NAMES_THE_FIX);
      });
    }
  });

  test("a status only a service may set is INVALID_TRANSITION naming the setting, on the server's own order", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "jangar-server");
    const workOrderId = await newWorkOrder(t, sessionId);
    misconfigure();
    await expectNothingWritten(t, async () => {
      const error = await expectConvexError(
        asServer(t).mutation(api.workOrders.updateStatus, { workOrderId, status: "running" }),
        "INVALID_TRANSITION",
      );
      expect(error.message).toMatch(/^A user may only submit a draft or cancel a work order/);
      expect(error.message).toMatch(NAMES_THE_FIX);
    });
  });
});

describe("refusals that no setting would change do not point at JANGAR_SERVICE_IDENTITIES", () => {
  test("a backward status change by a service, and one by a user, say nothing of the setting", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const workOrderId = await newWorkOrder(t, sessionId);
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: "running" });
    for (const caller of [asService(t), t.withIdentity({ issuer: "https://auth.jangar.test", subject: "alice" })]) {
      const error = await expectConvexError(caller.mutation(api.workOrders.updateStatus, { workOrderId, status: "submitted" }), "INVALID_TRANSITION");
      expect(error.message).not.toMatch(/JANGAR_SERVICE_IDENTITIES/);
    }
  });

  test("a listed service that forgets userId is told to pass it, not to list itself", async () => {
    const t = newBackend();
    const error = await expectConvexError(asService(t).query(api.chatSessions.list, { paginationOpts: FIRST_PAGE }), "INVALID_ARGUMENT");
    expect(error.message).toBe("A service caller must pass userId: whose records to list.");
  });
});
