import { describe, expect, test, vi } from "vitest";
import { api } from "../../convex/_generated/api";
import { newBackend } from "../helpers/backend";
import { asService, asUser } from "../helpers/callers";
import { deliveryCosts } from "../helpers/bench/costLog";
import { liveOrder, seedOrders, type Target } from "../helpers/orders/crowds";
import { pushOf, sha } from "../helpers/senders/github";
import { newSession, linksOf, statusOf } from "../helpers/records";
import { withFakeClock } from "../helpers/clock";
import { MAIN, merge, PR, push } from "../helpers/github/deliveries";

withFakeClock();

describe("crowds of orders (rules 1 and 3)", () => {
  test("a push reaches the live orders on a branch crowded with 100 finished ones, older and newer than the crowd", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const before = await liveOrder(t, sessionId, MAIN);
    await seedOrders(t, sessionId, 100, { status: "canceled", target: MAIN });
    const after = await liveOrder(t, sessionId, MAIN);

    const delivery = await push(t, pushOf(MAIN, 1));
    expect(delivery).toMatchObject({ status: "processed", touchedCount: 2 });
    expect(delivery.skipped).toBeUndefined();
    expect(await linksOf(t, before)).toEqual([{ kind: "commit", value: sha(1) }]);
    expect(await linksOf(t, after)).toEqual([{ kind: "commit", value: sha(1) }]);
  });

  test("a push to a branch with more than 100 live orders reaches the 100 most recent and records that it stopped", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const [oldest, ...rest] = await seedOrders(t, sessionId, 101, { status: "running", target: MAIN });

    const delivery = await push(t, pushOf(MAIN, 1));
    expect(delivery).toMatchObject({ status: "processed", touchedCount: 100 });
    expect(delivery.skipped).toEqual([expect.stringMatching(/^Stopped at the 100 most recent live work orders targeting acme\/api:main; older ones were not considered\.$/)]);
    expect(await linksOf(t, oldest)).toEqual([]);
    expect(await linksOf(t, rest.at(-1)!)).toHaveLength(1);
  });

  test("a live order behind 200 newer finished ones on its branch is reached, and nothing is skipped: finished orders are never read", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const buried = await liveOrder(t, sessionId, MAIN);
    await seedOrders(t, sessionId, 200, { status: "succeeded", target: MAIN });

    const costs = deliveryCosts();
    const delivery = await push(t, pushOf(MAIN, 1));
    expect(delivery).toMatchObject({ status: "processed", touchedCount: 1 });
    expect(delivery.skipped).toBeUndefined();
    expect(await linksOf(t, buried)).toEqual([{ kind: "commit", value: sha(1) }]);
    // The live order's index row, the order, its new link and counter, the delivery's own records.
    expect(costs.take()[0].documentsRead).toBeLessThan(20);
  });

  test("mallory creates and cancels 200 orders on alice's branch through the public API; alice's running order there still gets the pushed commit", async () => {
    const t = newBackend();
    const alice = await liveOrder(t, await newSession(t, "alice"), MAIN);
    const mallory = asUser(t, "mallory");
    const sessionId = await newSession(t, "mallory");
    for (let i = 0; i < 200; i += 1) {
      const workOrderId = await mallory.mutation(api.workOrders.create, {
        sessionId, workflowType: "codex-implement", prompt: "noop", title: `crowd ${i}`, status: "draft", target: MAIN,
      });
      await mallory.mutation(api.workOrders.updateStatus, { workOrderId, status: "canceled" });
    }
    const delivery = await push(t, pushOf(MAIN, 1));
    expect(delivery.skipped).toBeUndefined();
    expect(await linksOf(t, alice)).toEqual([{ kind: "commit", value: sha(1) }]);
  });

  test("mallory links 100 of her orders to alice's pull request after alice did, and cancels them; its merge still succeeds alice's order", async () => {
    const t = newBackend();
    const alice = await liveOrder(t, await newSession(t, "alice"));
    await asUser(t, "alice").mutation(api.workOrderLinks.add, { workOrderId: alice, kind: "pr", value: PR });
    const mallory = asUser(t, "mallory");
    const sessionId = await newSession(t, "mallory");
    for (let i = 0; i < 100; i += 1) {
      const workOrderId = await mallory.mutation(api.workOrders.create, { sessionId, workflowType: "codex-implement", prompt: "noop", title: `crowd ${i}`, status: "draft" });
      await mallory.mutation(api.workOrderLinks.add, { workOrderId, kind: "pr", value: PR });
      await mallory.mutation(api.workOrders.updateStatus, { workOrderId, status: "canceled" });
    }
    const delivery = await merge(t, PR, sha(7));
    expect(await statusOf(t, alice)).toBe("succeeded");
    // The finished orders are still reached, after the live one, as far as the bound allows.
    expect(delivery.skipped).toEqual(expect.arrayContaining([expect.stringMatching(/^Stopped at the 1 live and 99 most recently linked other work orders linked to pr /)]));
  });

  test("rule 3 ranks the orders linked to a pull request by their creation, newest first, not by when they were linked", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const oldest = await liveOrder(t, sessionId);
    vi.advanceTimersByTime(1000);
    const newer = await seedOrders(t, sessionId, 100, { status: "running", link: { kind: "pr", value: PR } });
    // Linked last, but created first: the 101st by creation.
    await asService(t).mutation(api.workOrderLinks.add, { workOrderId: oldest, kind: "pr", value: PR });

    const delivery = await merge(t, PR, sha(7));
    expect(delivery.skipped).toEqual([expect.stringMatching(/^Stopped at the 100 most recent live work orders linked to pr /)]);
    expect(await statusOf(t, oldest)).toBe("running");
    expect(await statusOf(t, newer[0])).toBe("succeeded");
  });

  test("a merged pull request linked to 100 older orders still succeeds the order most recently linked to it, and records that it stopped", async () => {
    // Many people's orders, seeded as one person's: past what one may hold (JANGAR_MAX_LIVE_ORDERS).
    vi.stubEnv("JANGAR_MAX_LIVE_ORDERS", "1000");
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const [oldest] = await seedOrders(t, sessionId, 100, { status: "running", link: { kind: "pr", value: PR } });
    const current = await liveOrder(t, sessionId);
    await asService(t).mutation(api.workOrderLinks.add, { workOrderId: current, kind: "pr", value: PR });

    const delivery = await merge(t, PR, sha(7));
    expect(delivery.status).toBe("processed");
    expect(delivery.skipped).toEqual([expect.stringMatching(/^Stopped at the 100 most recent live work orders linked to pr https:\/\/github\.com\/acme\/api\/pull\/12;/)]);
    expect(await statusOf(t, current)).toBe("succeeded");
    expect(await linksOf(t, current)).toEqual([{ kind: "pr", value: PR }, { kind: "commit", value: sha(7) }]);
    expect(await statusOf(t, oldest)).toBe("running");
  });
});

describe("crowds of large orders, under Convex's own limits", () => {
  const PROMPT_BYTES = 256 * 1024;

  test("70 finished orders with 256 KiB prompts on a branch: a push to it reads none of them and links the live one", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const live = await liveOrder(t, sessionId, MAIN);
    await seedOrders(t, sessionId, 70, { status: "canceled", target: MAIN, promptBytes: PROMPT_BYTES });
    const costs = deliveryCosts();
    const delivery = await push(t, pushOf(MAIN, 1));
    expect(delivery).toMatchObject({ status: "processed", touchedCount: 1 });
    expect(await linksOf(t, live)).toEqual([{ kind: "commit", value: sha(1) }]);
    expect(costs.take()[0].bytesRead).toBeLessThan(PROMPT_BYTES);
  });

  // The contract's bound is 100 orders per selector: `npm run bench` (BENCH_CROWD=100) reaches it.
  const CROWD = Number(process.env.BENCH_CROWD ?? 30);

  test(`a merge reaching ${CROWD} live orders with 256 KiB prompts by its branch, ${CROWD} by its pull request and 20 by markers is applied in several transactions, each within Convex's limits`, async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const SSO: Target = { targetRepo: "acme/api", targetBranch: "feature/sso" };
    const byBranch = await seedOrders(t, sessionId, CROWD, { status: "running", target: SSO, promptBytes: PROMPT_BYTES });
    const byLink = await seedOrders(t, sessionId, CROWD, { status: "running", link: { kind: "pr", value: PR }, promptBytes: PROMPT_BYTES });
    const byMarker = await seedOrders(t, sessionId, 20, { status: "running", promptBytes: PROMPT_BYTES });
    const costs = deliveryCosts();

    const delivery = await merge(t, PR, sha(7), byMarker.map((id) => `Work-Order: ${id}`).join("\n"));
    expect(delivery).toMatchObject({ status: "processed", attempts: 1 });
    expect(delivery.skipped).toBeUndefined();
    expect(delivery.progress).toBeUndefined();
    // A status change and a merge-commit link for each, and the pull request's link where it was not yet.
    const reached = 2 * CROWD + 20;
    expect(delivery.touchedCount).toBe(reached + reached + (CROWD + 20));
    for (const workOrderId of [byBranch[0], byBranch.at(-1)!, byLink[0], byLink.at(-1)!, byMarker[0], byMarker[19]]) {
      expect(await statusOf(t, workOrderId)).toBe("succeeded");
      expect(await linksOf(t, workOrderId)).toEqual(expect.arrayContaining([{ kind: "pr", value: PR }, { kind: "commit", value: sha(7) }]));
    }
    const transactions = costs.take();
    expect(transactions.length).toBeGreaterThan(2);
    for (const cost of transactions) {
      expect(cost.bytesRead).toBeLessThan(16 * 1024 * 1024);
      expect(cost.bytesWritten).toBeLessThan(16 * 1024 * 1024);
    }
  });
});
