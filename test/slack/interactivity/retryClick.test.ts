import { describe, expect, test, vi } from "vitest";
import { api } from "../../../convex/_generated/api";
import { newBackend } from "../../helpers/backend";
import { asService } from "../../helpers/callers";
import { orderOf, statusHistory } from "../../helpers/records";
import { settle } from "../../helpers/clock";
import { ALICE, BOB, clickOn, postSlackForm, slashCommand } from "../../helpers/senders/slack";
import { stored as storedDeliveries } from "../../helpers/inbox/deliveries";
import { CAROL, CHANNEL, THREAD_TS, aliceThreadWithOrder, bobsOrderIn, ordersAndHistory, replayed, sessionOrders, setStatus, slackUser, withSlackCards } from "../../helpers/slack/interactivity";

/*
 * The Retry button of a failed work order's card
 * (docs/contract.md#slack-interactivity-cancel-and-retry-on-the-card-and-a-slash-command):
 * the copy it makes, its card and the old one's, who may click it, and
 * what a person is told when it is refused.
 */

const { fake, cardOf, buttonsOf } = withSlackCards();

describe("a click on Retry", () => {
  const args = [
    { name: "attempts", value: 3n },
    { name: "flags", value: { dryRun: false, paths: ["src/login.ts", "src/sso.ts"], ratio: 0.5 } },
    { name: "patch", value: new Uint8Array([0, 159, 255]).buffer },
  ];
  const target = { targetRepo: "https://github.com/Acme/Api", targetBranch: "feature/sso" };

  test("copies the failed order exactly into a new one of the same session, submitted, with its own card; the old card says it was retried", async () => {
    const t = newBackend();
    const { sessionId, workOrderId } = await aliceThreadWithOrder(t, { args, target, title: "SSO login" });
    await asService(t).mutation(api.workOrderLinks.add, { workOrderId, kind: "pr", value: "https://github.com/acme/api/pull/12" });
    await setStatus(t, workOrderId, "running", "failed");

    const response = await postSlackForm(t, clickOn("work_order.retry", workOrderId));
    expect(response).toEqual({ status: 200, body: { status: "accepted", delivery: expect.any(String) } });
    await settle(t);

    const orders = await sessionOrders(t, sessionId);
    expect(orders.map((order) => order._id)).toHaveLength(2);
    const retryId = orders.find((order) => order._id !== workOrderId)!._id;
    const [original, retry] = [await orderOf(t, workOrderId), await orderOf(t, retryId)];
    const copied = ({ sessionId, workflowType, prompt, title, args, target }: typeof original) => ({ sessionId, workflowType, prompt, title, args, target });
    expect(copied(retry)).toEqual(copied(original));
    expect(retry.args).toEqual([
      { name: "attempts", value: 3n },
      { name: "flags", value: { dryRun: false, paths: ["src/login.ts", "src/sso.ts"], ratio: 0.5 } },
      { name: "patch", value: new Uint8Array([0, 159, 255]).buffer },
    ]);
    expect(retry).toMatchObject({ status: "submitted", requestedBy: slackUser(ALICE), links: [] });
    expect(await statusHistory(t, retryId)).toMatchObject([{ from: null, to: "submitted", source: "slack", actor: slackUser(ALICE) }]);
    expect(original.status).toBe("failed");

    expect(cardOf(retryId).text).toBe("Work order SSO login: submitted");
    expect(buttonsOf(retryId)).toEqual([`work_order.cancel=${retryId}`]);
    expect(cardOf(workOrderId).text).toBe(`Work order SSO login: failed, retried as ${retryId} · PR <https://github.com/acme/api/pull/12|acme/api#12>`);
    expect(buttonsOf(workOrderId)).toEqual([]);
    expect(fake.slack.ephemerals).toEqual([]);
  });

  test("by the session's owner, of an order someone else requested: the copy keeps its requester, who can list and cancel it; the clicker is the retry's actor", async () => {
    const t = newBackend();
    const { sessionId } = await aliceThreadWithOrder(t);
    const bobs = await bobsOrderIn(t, sessionId);
    await setStatus(t, bobs, "failed");
    await postSlackForm(t, clickOn("work_order.retry", bobs));
    await settle(t);

    const retry = (await sessionOrders(t, sessionId)).find((order) => order.title === "Bob's fix" && order._id !== bobs)!;
    expect(retry.requestedBy).toBe(slackUser(BOB));
    expect(await statusHistory(t, retry._id)).toMatchObject([{ to: "submitted", source: "slack", actor: slackUser(ALICE) }]);
    const [retryRow] = await t.run(async (ctx) => await ctx.db.query("work_order_retries").collect());
    expect(retryRow).toMatchObject({ workOrderId: bobs, retryId: retry._id, requestedBy: slackUser(ALICE) });
    expect((await postSlackForm(t, slashCommand("status", { user: BOB }))).body.text).toContain(retry._id);
    expect((await postSlackForm(t, slashCommand(`cancel ${retry._id}`, { user: BOB }))).body.text).toBe("Canceled *Bob's fix*.");
  });

  test("replayed by an operator after it worked: it finds its retry, makes no second copy, stays processed, and nobody is told", async () => {
    const t = newBackend();
    const { sessionId, workOrderId } = await aliceThreadWithOrder(t);
    await setStatus(t, workOrderId, "failed");
    const response = await postSlackForm(t, clickOn("work_order.retry", workOrderId));
    await settle(t);
    const orders = await sessionOrders(t, sessionId);
    const before = (await storedDeliveries(t)).deliveries.find((row) => row._id === response.body.delivery)!;

    const { delivery, attempts } = await replayed(t, response.body.delivery as string);
    expect(await sessionOrders(t, sessionId)).toEqual(orders);
    expect(delivery).toMatchObject({ status: "processed", touchedCount: 1, touched: before.touched });
    expect(attempts).toEqual(["processed", "replayed", "processed"]);
    expect(fake.slack.ephemerals).toEqual([]);
  });

  test("a second click on Retry of the same order (another trigger) is refused: the order was retried once", async () => {
    const t = newBackend();
    const { sessionId, workOrderId } = await aliceThreadWithOrder(t);
    await setStatus(t, workOrderId, "failed");
    await postSlackForm(t, clickOn("work_order.retry", workOrderId));
    await settle(t);
    const [retry] = (await sessionOrders(t, sessionId)).filter((order) => order._id !== workOrderId);
    await postSlackForm(t, clickOn("work_order.retry", workOrderId));
    await settle(t);
    expect(await sessionOrders(t, sessionId)).toHaveLength(2);
    expect(fake.slack.ephemerals.map((message) => message.text)).toEqual([`*SSO login* was already retried as \`${retry._id}\`.`]);
  });

  test.each([
    ["of an order that has not failed", ALICE, ["running"] as const, "Only a failed work order can be retried; *SSO login* is running."],
    ["by someone who neither owns the session nor requested the order", CAROL, ["failed"] as const, "Only the person who requested *SSO login* or owns its session may retry it."],
  ])("%s: nothing is created, the clicker is told why", async (_label, user, statuses, told) => {
    const t = newBackend();
    const { workOrderId } = await aliceThreadWithOrder(t);
    await setStatus(t, workOrderId, ...statuses);
    const before = await ordersAndHistory(t);
    await postSlackForm(t, clickOn("work_order.retry", workOrderId, { user }));
    await settle(t);
    expect(await ordersAndHistory(t)).toEqual(before);
    expect(fake.slack.ephemerals).toEqual([{ channel: CHANNEL, user, threadTs: THREAD_TS, text: told }]);
  });

  test("an order whose workflow type JANGAR_WORKFLOW_TYPES no longer lists is not copied; the clicker is told the types allowed", async () => {
    const t = newBackend();
    const { workOrderId } = await aliceThreadWithOrder(t);
    await setStatus(t, workOrderId, "failed");
    vi.stubEnv("JANGAR_WORKFLOW_TYPES", "codex-review");
    const before = await ordersAndHistory(t);
    await postSlackForm(t, clickOn("work_order.retry", workOrderId));
    await settle(t);
    expect(await ordersAndHistory(t)).toEqual(before);
    expect(fake.slack.ephemerals.map((message) => message.text)).toEqual([
      '*SSO login* was not retried: workflowType "codex-implement" is not one this deployment runs: JANGAR_WORKFLOW_TYPES allows codex-review.',
    ]);
  });

  test("the same click sent twice (one trigger_id) acts once: the second is a duplicate, one order is created", async () => {
    const t = newBackend();
    const { sessionId, workOrderId } = await aliceThreadWithOrder(t);
    await setStatus(t, workOrderId, "failed");
    const click = clickOn("work_order.retry", workOrderId);
    const first = await postSlackForm(t, click);
    const again = await postSlackForm(t, click);
    await settle(t);
    const later = await postSlackForm(t, click);
    expect([first.body.status, again.body, later.body]).toEqual([
      "accepted",
      { status: "duplicate", delivery: first.body.delivery },
      { status: "duplicate", delivery: first.body.delivery },
    ]);
    await settle(t);
    expect(await sessionOrders(t, sessionId)).toHaveLength(2);
    expect(fake.slack.ephemerals).toEqual([]);
  });
});
