/**
 * Oversized and unstorable input to the public functions is refused with
 * INVALID_ARGUMENT, naming the field, before Convex's own limits (1 MiB per
 * document, nesting depth, field names) would throw an error of its own.
 */
import { describe, expect, test } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { newBackend, type Backend } from "../helpers/backend";
import { asService, asUser } from "../helpers/callers";
import { expectConvexError, expectNothingWritten } from "../helpers/assertions";
import { nestedObjects } from "../helpers/convexValues";
import { newSession, newWorkOrder } from "../helpers/records";

const MiB = 1024 * 1024;
const huge = "x".repeat(2 * MiB);

type Call = (t: Backend, ids: { sessionId: Id<"chat_sessions">; workOrderId: Id<"work_orders"> }) => Promise<unknown>;

const cases: [string, RegExp, Call][] = [
  ["a 2 MiB session title", /title/, (t) => asUser(t, "alice").mutation(api.chatSessions.create, { title: huge })],
  ["a 2 MiB userId from a service", /userId/, (t) => asService(t).mutation(api.chatSessions.create, { title: "t", userId: huge })],
  ["2 MiB of message content", /content/, (t, { sessionId }) => asUser(t, "alice").mutation(api.chatMessages.append, { sessionId, role: "user", content: huge })],
  ["2 MiB of message metadata", /metadata/, (t, { sessionId }) => asUser(t, "alice").mutation(api.chatMessages.append, { sessionId, role: "user", content: "hi", metadata: { blob: huge } })],
  ["message metadata nested 16 deep", /metadata.*nests/, (t, { sessionId }) => asUser(t, "alice").mutation(api.chatMessages.append, { sessionId, role: "user", content: "hi", metadata: nestedObjects(16) })],
  ["a 2 MiB prompt", /prompt/, (t, { sessionId }) => asUser(t, "alice").mutation(api.workOrders.create, { sessionId, workflowType: "codex", prompt: huge, title: "t" })],
  ["a 2 MiB work order title", /title/, (t, { sessionId }) => asUser(t, "alice").mutation(api.workOrders.create, { sessionId, workflowType: "codex", prompt: "p", title: huge })],
  ["a 2 MiB workflowType", /workflowType/, (t, { sessionId }) => asUser(t, "alice").mutation(api.workOrders.create, { sessionId, workflowType: huge, prompt: "p", title: "t" })],
  ["a 2 MiB arg value at create", /arg big/, (t, { sessionId }) => asUser(t, "alice").mutation(api.workOrders.create, { sessionId, workflowType: "codex", prompt: "p", title: "t", args: [{ name: "big", value: huge }] })],
  ["101 args of 13 KB at create, 1.3 MiB together", /at most|bytes/, (t, { sessionId }) => asUser(t, "alice").mutation(api.workOrders.create, { sessionId, workflowType: "codex", prompt: "p", title: "t", args: Array.from({ length: 101 }, (_, i) => ({ name: `a${i}`, value: "v".repeat(13_000) })) })],
  ["a 2 MiB arg value", /arg big/, (t, { workOrderId }) => asUser(t, "alice").mutation(api.workOrderArgs.upsert, { workOrderId, name: "big", value: huge })],
  ["an arg value nested 16 deep", /nests/, (t, { workOrderId }) => asUser(t, "alice").mutation(api.workOrderArgs.upsert, { workOrderId, name: "deep", value: nestedObjects(16) })],
  ["a 2 MiB arg name", /arg name/, (t, { workOrderId }) => asUser(t, "alice").mutation(api.workOrderArgs.upsert, { workOrderId, name: huge, value: 1 })],
  ["a 2 MiB target repo", /targetRepo/, (t, { workOrderId }) => asUser(t, "alice").mutation(api.workOrderTargets.upsert, { workOrderId, targetRepo: huge, targetBranch: "main" })],
  ["a 2 MiB target branch", /targetBranch/, (t, { workOrderId }) => asUser(t, "alice").mutation(api.workOrderTargets.upsert, { workOrderId, targetRepo: "acme/api", targetBranch: huge })],
  ["a 2 MiB link value", /value/, (t, { workOrderId }) => asUser(t, "alice").mutation(api.workOrderLinks.add, { workOrderId, kind: "pr", value: `https://github.com/acme/api/pull/1${huge}` })],
  ["a 2 MiB status reason", /reason/, (t, { workOrderId }) => asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: "accepted", reason: huge })],
];

describe("oversized input to public functions", () => {
  test.each(cases)("%s is INVALID_ARGUMENT, naming the field, and writes nothing", async (_case, field, call) => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const workOrderId = await newWorkOrder(t, sessionId);
    await expectNothingWritten(t, async () => {
      const error = await expectConvexError(call(t, { sessionId, workOrderId }), "INVALID_ARGUMENT");
      expect(error.message).toMatch(field);
      // The message says what the limit is, not just that something broke.
      expect(error.message.length).toBeLessThan(300);
    });
  });
});
