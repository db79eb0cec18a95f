import { describe, expect, test } from "vitest";
import { internal } from "../../convex/_generated/api";
import type { Doc, Id } from "../../convex/_generated/dataModel";
import type { Interpretation } from "../../src/commands";
import { delayRange } from "../../src/retry";
import { DELIVERY_RETRY } from "../../convex/model/inbox/deliveries";
import { github } from "../../src/sources/github";
import { newBackend, type Backend } from "../helpers/backend";
import { liveOrder, type Target } from "../helpers/orders/crowds";
import { pushOf, sha, postGithub } from "../helpers/senders/github";
import { newSession, linksOf, statusOf } from "../helpers/records";
import { withFakeClock, runDue, settle } from "../helpers/clock";
import { deliveryRow, replaceBody, restoreBody, storedBody } from "../helpers/inbox/deliveries";

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

/** What the GitHub source reads of a stored delivery's body. */
async function interpretStored(t: Backend, delivery: Doc<"webhook_deliveries">) {
  const body = new Uint8Array(await storedBody(t, delivery._id));
  return github.interpret({ deliveryKey: delivery.deliveryKey, body, contentType: delivery.contentType, event: delivery.event }, {});
}

describe("a delivery whose reading changes between its transactions (a deploy in between)", () => {
  /** The delivery, part applied: its first transaction has run, links remain. */
  async function partApplied() {
    const t = newBackend({ documentsWritten: 200 });
    const orders = await ordersOnBranch(t, 2);
    const response = await postGithub(t, { event: "push", payload: pushOf(BRANCH, 150) });
    await runDue(t);
    const partway = await deliveryRow(t, response.body.delivery);
    expect(partway).toMatchObject({ status: "accepted", progress: { linksDone: expect.any(Number) } });
    return { t, orders, deliveryId: partway._id, interpretation: await interpretStored(t, partway) };
  }

  test("a later transaction that reads the body otherwise applies the delivery again from the start: every link written once", async () => {
    const { t, orders, deliveryId, interpretation } = await partApplied();
    if (interpretation.kind !== "commands") throw new Error("a push reads as commands");
    // The new code reads the same push with its commits in the other order: positions counted in the old reading mean nothing.
    const reread = { ...interpretation, commands: [...interpretation.commands].reverse() };
    for (let i = 0; i < 30 && (await deliveryRow(t, deliveryId)).status === "accepted"; i += 1) {
      await t.mutation(internal.inbox.process.completeDelivery, { deliveryId, interpretation: reread, digest: "the reading after the deploy" });
    }
    expect(await deliveryRow(t, deliveryId)).toMatchObject({ status: "processed", touchedCount: 300 });
    await expectEveryCommitOnce(t, orders, 150);
  });

  const PR = "https://github.com/acme/api/pull/12";

  /** A merge to the branch's six live orders, its first transaction run: some of them succeeded, not all. */
  async function mergePartApplied() {
    // Room for a few status changes per transaction.
    const t = newBackend({ documentsWritten: 70 });
    const orders = await ordersOnBranch(t, 6);
    const response = await postGithub(t, {
      event: "pull_request",
      payload: {
        action: "closed",
        repository: { full_name: BRANCH.targetRepo },
        pull_request: { html_url: PR, body: "Adds SSO.", merged: true, merge_commit_sha: sha(7), head: { ref: BRANCH.targetBranch, repo: { full_name: BRANCH.targetRepo } } },
      },
    });
    await runDue(t);
    const partway = await deliveryRow(t, response.body.delivery);
    expect(partway.status).toBe("accepted");
    const statuses = await Promise.all(orders.map((workOrderId) => statusOf(t, workOrderId)));
    expect(statuses).toContain("succeeded");
    expect(statuses).toContain("running");
    return { t, orders, partway };
  }

  /** Runs the delivery's transactions to its end with this reading of its body. */
  async function finish(t: Backend, deliveryId: Id<"webhook_deliveries">, interpretation: Interpretation, digest: string) {
    for (let i = 0; i < 10 && (await deliveryRow(t, deliveryId)).status === "accepted"; i += 1) {
      await t.mutation(internal.inbox.process.completeDelivery, { deliveryId, interpretation, digest });
    }
    expect(await deliveryRow(t, deliveryId)).toMatchObject({ status: "processed" });
  }

  async function expectMerged(t: Backend, orders: Id<"work_orders">[]) {
    for (const workOrderId of orders) {
      expect(await statusOf(t, workOrderId)).toBe("succeeded");
      expect(await linksOf(t, workOrderId)).toEqual(expect.arrayContaining([{ kind: "pr", value: PR }, { kind: "commit", value: sha(7) }]));
    }
  }

  test("a merge whose first transaction moved some orders to succeeded still links every order it reached, when a later transaction reads the body otherwise", async () => {
    const { t, orders, partway } = await mergePartApplied();
    // The code deployed meanwhile reads the same merge; its digest differs, so the units start again from the first.
    await finish(t, partway._id, await interpretStored(t, partway), "the reading after the deploy");
    await expectMerged(t, orders);
  });

  test("a merge whose progress was recorded before selectors were named continues with the orders it resolved, by position", async () => {
    const { t, orders, partway } = await mergePartApplied();
    const { selectors, ...before } = partway.progress!;
    expect(selectors).toHaveLength(2);
    await t.run(async (ctx) => await ctx.db.patch("webhook_deliveries", partway._id, { progress: before }));
    const interpretation = await interpretStored(t, partway);
    await finish(t, partway._id, interpretation, partway.progress!.digest!);
    await expectMerged(t, orders);
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
