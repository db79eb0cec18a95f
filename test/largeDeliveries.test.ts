import { describe, expect, test } from "vitest";
import { internal } from "../convex/_generated/api";
import type { Id } from "../convex/_generated/dataModel";
import { delayRange } from "../src/retry";
import { DELIVERY_RETRY } from "../convex/model/deliveries";
import { github } from "../src/sources/github";
import { newBackend, type Backend } from "./backend";
import { liveOrder, pushOf, type Target } from "./effects";
import { postGithub } from "./github";
import { newSession, withFakeClock, linksOf } from "./helpers";
import { deliveryRow, runDue, settle, replaceBody, restoreBody } from "./inbox";

withFakeClock();

const BRANCH: Target = { targetRepo: "acme/api", targetBranch: "feature/sso" };

async function ordersOnBranch(t: Backend, count: number) {
  const sessionId = await newSession(t, "alice");
  const orders: Id<"work_orders">[] = [];
  for (let i = 0; i < count; i += 1) {
    orders.push(await liveOrder(t, sessionId, BRANCH));
  }
  return orders;
}

/** Every commit link of the orders, each once: a link written twice would show here. */
async function expectEveryCommitOnce(t: Backend, orders: Id<"work_orders">[], commits: number) {
  for (const workOrderId of orders) {
    const links = await linksOf(t, workOrderId);
    expect(links).toHaveLength(commits);
    expect(new Set(links.map((link) => link.value)).size).toBe(commits);
  }
}

describe("a delivery larger than one transaction", () => {
  test("a push needing more writes than a transaction allows is applied over several transactions, and is processed only when all are", async () => {
    // 300 links to write, at most 200 writes per transaction: in one transaction it fails for good.
    const t = newBackend({ documentsWritten: 200 });
    const orders = await ordersOnBranch(t, 2);
    const response = await postGithub(t, { event: "push", payload: pushOf(BRANCH, 150) });

    await runDue(t);
    const partway = await deliveryRow(t, response.body.delivery);
    expect(partway.status).toBe("accepted");
    expect(partway.progress!.linksDone).toBeGreaterThan(0);
    expect(partway.progress!.linksDone).toBeLessThan(300);
    expect(partway.touchedCount).toBe(partway.progress!.linksDone);

    await settle(t);
    const done = await deliveryRow(t, response.body.delivery);
    expect(done).toMatchObject({ status: "processed", attempts: 1, touchedCount: 300 });
    expect(done.progress).toBeUndefined();
    expect(done.error).toBeUndefined();
    await expectEveryCommitOnce(t, orders, 150);
  });

  test("under Convex's own limits, a push of more links than one transaction writes is applied in two", async () => {
    const t = newBackend();
    const orders = await ordersOnBranch(t, 2);
    const response = await postGithub(t, { event: "push", payload: pushOf(BRANCH, 520) });

    await runDue(t);
    expect(await deliveryRow(t, response.body.delivery)).toMatchObject({ status: "accepted", progress: { linksDone: 1000 } });
    await runDue(t);
    expect(await deliveryRow(t, response.body.delivery)).toMatchObject({ status: "processed", touchedCount: 1040 });
    await expectEveryCommitOnce(t, orders, 520);
  });

  test("a replay in the middle of a large delivery writes every link once", async () => {
    const t = newBackend({ documentsWritten: 200 });
    const orders = await ordersOnBranch(t, 2);
    const response = await postGithub(t, { event: "push", payload: pushOf(BRANCH, 150) });
    await runDue(t);
    expect((await deliveryRow(t, response.body.delivery)).status).toBe("accepted");

    // A second run of the same delivery while the first still goes on.
    await t.mutation(internal.ingest.replay, { deliveryId: response.body.delivery as Id<"webhook_deliveries"> });
    await settle(t);
    expect(await deliveryRow(t, response.body.delivery)).toMatchObject({ status: "processed", touchedCount: 300 });
    await expectEveryCommitOnce(t, orders, 150);

    // And replayed once done: nothing new.
    await t.mutation(internal.ingest.replay, { deliveryId: response.body.delivery as Id<"webhook_deliveries"> });
    await settle(t);
    expect(await deliveryRow(t, response.body.delivery)).toMatchObject({ status: "processed", touchedCount: 0 });
    await expectEveryCommitOnce(t, orders, 150);
  });

  test("a later transaction that fails is retried from where the delivery stood, and finishes it", async () => {
    const t = newBackend({ documentsWritten: 200 });
    const orders = await ordersOnBranch(t, 2);
    const response = await postGithub(t, { event: "push", payload: pushOf(BRANCH, 150) });
    await runDue(t);
    const partway = await deliveryRow(t, response.body.delivery);
    const written = partway.progress!.linksDone;

    // The stored body goes missing before the next transaction, and comes back before the retry.
    const bytes = await replaceBody(t, partway._id, null);
    await runDue(t);
    const failed = await deliveryRow(t, response.body.delivery);
    expect(failed).toMatchObject({ status: "failed", attempts: 1, progress: { linksDone: written } });
    await restoreBody(t, failed._id, bytes);

    await runDue(t, delayRange(DELIVERY_RETRY, 1).maxMs);
    await settle(t);
    expect(await deliveryRow(t, response.body.delivery)).toMatchObject({ status: "processed", attempts: 2, touchedCount: 300 });
    await expectEveryCommitOnce(t, orders, 150);
  });
});

describe("a delivery whose reading changes between its transactions (a deploy in between)", () => {
  /** The delivery, part applied: its first transaction has run, links remain. */
  async function partApplied() {
    const t = newBackend({ documentsWritten: 200 });
    const orders = await ordersOnBranch(t, 2);
    const response = await postGithub(t, { event: "push", payload: pushOf(BRANCH, 150) });
    await runDue(t);
    const partway = await deliveryRow(t, response.body.delivery);
    expect(partway).toMatchObject({ status: "accepted", progress: { linksDone: expect.any(Number) } });
    const interpretation = await t.run(async (ctx) => {
      const body = new Uint8Array(await (await ctx.storage.get(partway.body))!.arrayBuffer());
      return github.interpret({ deliveryKey: partway.deliveryKey, body, contentType: partway.contentType, event: partway.event }, {});
    });
    return { t, orders, deliveryId: partway._id, interpretation };
  }

  test("a later transaction that reads the body otherwise applies the delivery again from the start: every link written once", async () => {
    const { t, orders, deliveryId, interpretation } = await partApplied();
    if (interpretation.kind !== "commands") throw new Error("a push reads as commands");
    // The new code reads the same push with its commits in the other order: positions counted in the old reading mean nothing.
    const reread = { ...interpretation, commands: [...interpretation.commands].reverse() };
    for (let i = 0; i < 10 && (await deliveryRow(t, deliveryId)).status === "accepted"; i += 1) {
      await t.mutation(internal.inbox.process.completeDelivery, { deliveryId, interpretation: reread, digest: "the reading after the deploy" });
    }
    expect(await deliveryRow(t, deliveryId)).toMatchObject({ status: "processed", touchedCount: 300 });
    await expectEveryCommitOnce(t, orders, 150);
  });

  test("a later transaction that reads the body as ignored finishes the delivery ignored and clears its progress", async () => {
    const { t, deliveryId } = await partApplied();
    await t.mutation(internal.inbox.process.completeDelivery, {
      deliveryId,
      interpretation: { kind: "ignored", reason: "Pushes are no longer acted on." },
      digest: "the reading after the deploy",
    });
    const delivery = await deliveryRow(t, deliveryId);
    expect(delivery).toMatchObject({ status: "ignored", ignoredReason: "Pushes are no longer acted on." });
    expect(delivery.progress).toBeUndefined();
  });
});
