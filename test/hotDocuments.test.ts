import { describe, expect, test, vi } from "vitest";
import { api } from "../convex/_generated/api";
import { newBackend } from "./helpers/backend";
import { burstOfPushes, burstOfSlackMessages } from "./helpers/bursts";
import { asService } from "./helpers/callers";
import { liveOrder } from "./helpers/workOrders";
import { pushOf, sha, postGithub } from "./helpers/senders/github";
import { newSession } from "./helpers/records";
import { withFakeClock, settle } from "./helpers/clock";

withFakeClock();

const SECOND = 1000;

describe("an order's updatedAt", () => {
  test("moves with every status change, and with links, args and targets at most once a minute", async () => {
    const t = newBackend();
    const service = asService(t);
    const sessionId = await newSession(t, "alice");
    const target = { targetRepo: "acme/api", targetBranch: "feature/sso" };
    const workOrderId = await liveOrder(t, sessionId, target);
    const updatedAt = async () => (await service.query(api.workOrders.get, { workOrderId }))!.updatedAt;
    const start = await updatedAt();

    vi.advanceTimersByTime(10 * SECOND);
    await service.mutation(api.workOrderLinks.add, { workOrderId, kind: "pr", value: "https://github.com/acme/api/pull/1" });
    await service.mutation(api.workOrderArgs.upsert, { workOrderId, name: "model", value: "gpt-5" });
    await service.mutation(api.workOrderTargets.upsert, { workOrderId, targetRepo: "acme/api", targetBranch: "feature/sso-2" });
    await service.mutation(api.workOrderTargets.upsert, { workOrderId, ...target });
    await postGithub(t, { event: "push", payload: pushOf(target, 3) });
    await settle(t);
    expect(await updatedAt()).toBe(start);

    vi.advanceTimersByTime(55 * SECOND);
    await service.mutation(api.workOrderLinks.add, { workOrderId, kind: "commit", value: sha(99) });
    const aMinuteLater = await updatedAt();
    expect(aMinuteLater).toBe(start + 65 * SECOND);

    vi.advanceTimersByTime(SECOND);
    await service.mutation(api.workOrderArgs.upsert, { workOrderId, name: "model", value: "gpt-5.1" });
    expect(await updatedAt()).toBe(aMinuteLater);
    await service.mutation(api.workOrders.updateStatus, { workOrderId, status: "succeeded" });
    expect(await updatedAt()).toBe(start + 66 * SECOND);
  });
});

describe("bursts: no document but counter shards (and a thread's session) is written by more than a few transactions", () => {
  test("50 pushes to one branch write each order at most once a minute", async () => {
    const figure = await burstOfPushes();
    expect(figure.transactions).toBe(100);
    // 150 seconds of pushes: the orders' updatedAt moves twice; each delivery row is written on receipt and when processed.
    expect(figure.hottest.writes).toBeLessThanOrEqual(3);
  });

  test("50 messages in one Slack thread write its session each time, and nothing else more than twice", async () => {
    const figure = await burstOfSlackMessages();
    expect(figure.transactions).toBe(100);
    expect(figure.expected).toEqual({ document: "chat_sessions", writes: 50 });
    expect(figure.hottest.writes).toBeLessThanOrEqual(2);
  });
});
