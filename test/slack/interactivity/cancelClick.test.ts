import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { newBackend } from "../../helpers/backend";
import { orderOf, newWorkOrder, statusHistory } from "../../helpers/records";
import { settle } from "../../helpers/clock";
import { fetchFrom } from "../../../fakes/http";
import { FakeTemporal, TEMPORAL_URL } from "../../../fakes/temporal";
import { ALICE, BOB, clickOn, postSlackForm, slashCommand } from "../../helpers/senders/slack";
import { stored as storedDeliveries } from "../../helpers/inbox/deliveries";
import { CAROL, CHANNEL, THREAD_TS, aliceThreadWithOrder, bobsOrderIn, ordersAndHistory, replayed, setStatus, slackUser, withSlackCards } from "../../helpers/slack/interactivity";

/*
 * The Cancel button of a work order's card
 * (docs/contract.md#slack-interactivity-cancel-and-retry-on-the-card-and-a-slash-command),
 * as the people in Slack see it (the HTTP answer, the card, the messages
 * only they see), as Jangar's server reads the order back afterwards, and
 * as Temporal is asked to stop the run.
 */

const { fake, cardOf, buttonsOf } = withSlackCards();

describe("the card's buttons", () => {
  test("Cancel while the order is not final, Retry once it failed, none once it succeeded", async () => {
    const t = newBackend();
    const { sessionId, workOrderId } = await aliceThreadWithOrder(t);
    expect(buttonsOf(workOrderId)).toEqual([`work_order.cancel=${workOrderId}`]);
    await setStatus(t, workOrderId, "running", "failed");
    expect(buttonsOf(workOrderId)).toEqual([`work_order.retry=${workOrderId}`]);
    const other = await newWorkOrder(t, sessionId, { title: "Other" });
    await setStatus(t, other, "succeeded");
    expect(buttonsOf(other)).toEqual([]);
    // The text stays as the fallback for notifications.
    expect(cardOf(workOrderId).text).toBe("Work order SSO login: failed");
  });
});

describe("a click on Cancel", () => {
  test("by the order's owner: answered 200 at once, then the order is canceled through the status machine and its card has no Cancel button", async () => {
    const t = newBackend();
    const { workOrderId } = await aliceThreadWithOrder(t);
    await setStatus(t, workOrderId, "running");
    const click = clickOn("work_order.cancel", workOrderId);

    const response = await postSlackForm(t, click);
    expect(response).toEqual({ status: 200, body: { status: "accepted", delivery: expect.any(String) } });
    expect((await orderOf(t, workOrderId)).status).toBe("running");
    await settle(t);

    expect((await orderOf(t, workOrderId)).status).toBe("canceled");
    expect((await statusHistory(t, workOrderId)).at(-1)).toMatchObject({
      from: "running",
      to: "canceled",
      source: "slack",
      actor: slackUser(ALICE),
    });
    expect(cardOf(workOrderId).text).toBe("Work order SSO login: canceled");
    expect(buttonsOf(workOrderId)).toEqual([]);
    expect(fake.slack.ephemerals).toEqual([]);
    const [delivery] = (await storedDeliveries(t)).deliveries.filter((row) => row._id === response.body.delivery);
    expect(delivery).toMatchObject({
      source: "slack",
      deliveryKey: JSON.parse(click.payload).trigger_id,
      contentType: "application/x-www-form-urlencoded",
      event: "block_actions",
      action: "work_order.cancel",
      status: "processed",
      touchedCount: 1,
    });
  });

  test("by the person who requested the order, in someone else's session: canceled too", async () => {
    const t = newBackend();
    const { sessionId } = await aliceThreadWithOrder(t);
    const workOrderId = await bobsOrderIn(t, sessionId);
    await settle(t);
    await postSlackForm(t, clickOn("work_order.cancel", workOrderId, { user: BOB }));
    await settle(t);
    expect((await orderOf(t, workOrderId)).status).toBe("canceled");
    expect((await statusHistory(t, workOrderId)).at(-1)).toMatchObject({ source: "slack", actor: slackUser(BOB) });
  });

  test("by anyone else: nothing changes, and that person alone is told why, with chat.postEphemeral", async () => {
    const t = newBackend();
    const { workOrderId } = await aliceThreadWithOrder(t);
    await setStatus(t, workOrderId, "running");
    const before = await ordersAndHistory(t);
    const calls = fake.slack.calls.length;

    const response = await postSlackForm(t, clickOn("work_order.cancel", workOrderId, { user: CAROL }));
    expect(response.status).toBe(200);
    await settle(t);

    expect(await ordersAndHistory(t)).toEqual(before);
    expect(fake.slack.calls.slice(calls).map((call) => call.method)).toEqual(["chat.postEphemeral"]);
    expect(fake.slack.ephemerals).toEqual([
      { channel: CHANNEL, user: CAROL, threadTs: THREAD_TS, text: "Only the person who requested *SSO login* or owns its session may cancel it." },
    ]);
    const [delivery] = (await storedDeliveries(t)).deliveries.filter((row) => row._id === response.body.delivery);
    expect(delivery).toMatchObject({ status: "ignored", ignoredReason: expect.stringContaining(slackUser(CAROL)) });
  });

  test.each([
    ["already canceled", ["canceled"] as const, "*SSO login* is already canceled."],
    ["already succeeded", ["running", "succeeded"] as const, "*SSO login* was not canceled: The work order is already succeeded, a final status; it cannot become canceled."],
  ])("on an order %s (a card not yet edited): refused, nothing changes, the clicker is told", async (_label, statuses, told) => {
    const t = newBackend();
    const { workOrderId } = await aliceThreadWithOrder(t);
    await setStatus(t, workOrderId, ...statuses);
    const before = await ordersAndHistory(t);
    await postSlackForm(t, clickOn("work_order.cancel", workOrderId));
    await settle(t);
    expect(await ordersAndHistory(t)).toEqual(before);
    expect(fake.slack.ephemerals).toEqual([{ channel: CHANNEL, user: ALICE, threadTs: THREAD_TS, text: told }]);
  });

  test("replayed by an operator after it worked: it finds the order canceled by that click, stays processed with what it touched, and nobody is told again", async () => {
    const t = newBackend();
    const { workOrderId } = await aliceThreadWithOrder(t);
    const response = await postSlackForm(t, clickOn("work_order.cancel", workOrderId));
    await settle(t);
    const history = await statusHistory(t, workOrderId);
    const before = (await storedDeliveries(t)).deliveries.find((row) => row._id === response.body.delivery)!;
    expect(before).toMatchObject({ status: "processed", touchedCount: 1 });

    const { delivery, attempts } = await replayed(t, response.body.delivery as string);
    expect(delivery).toMatchObject({ status: "processed", touchedCount: 1, touched: before.touched, attempts: 1 });
    expect(delivery.ignoredReason).toBeUndefined();
    // The history of attempts only grows: the first run, the replay, the replayed run.
    expect(attempts).toEqual(["processed", "replayed", "processed"]);
    expect(await statusHistory(t, workOrderId)).toEqual(history);
    expect(fake.slack.ephemerals).toEqual([]);
  });

  test("another click on Cancel of an order that click canceled (a new trigger_id) is still refused, and told", async () => {
    const t = newBackend();
    const { workOrderId } = await aliceThreadWithOrder(t);
    await postSlackForm(t, clickOn("work_order.cancel", workOrderId));
    await settle(t);
    const second = await postSlackForm(t, clickOn("work_order.cancel", workOrderId));
    await settle(t);
    expect(fake.slack.ephemerals.map((message) => message.text)).toEqual(["*SSO login* is already canceled."]);
    expect((await storedDeliveries(t)).deliveries.find((row) => row._id === second.body.delivery)).toMatchObject({ status: "ignored" });
  });

  test("naming no order (a value that is no id, or an order that is gone): the clicker is told it is not found", async () => {
    const t = newBackend();
    await aliceThreadWithOrder(t);
    await postSlackForm(t, clickOn("work_order.cancel", "not-an-order"));
    await settle(t);
    expect(fake.slack.ephemerals.map((message) => message.text)).toEqual(["No work order `not-an-order` that you may see."]);
  });
});

describe("Cancel stops the run, with Temporal", () => {
  let temporal: FakeTemporal;
  beforeEach(() => {
    temporal = new FakeTemporal({ namespace: "default" });
    vi.stubGlobal("fetch", fetchFrom([fake.slack, temporal]));
    vi.stubEnv("TEMPORAL_HTTP_URL", TEMPORAL_URL);
  });
  afterEach(() => {
    expect(temporal.violations).toEqual([]);
  });

  /** The confirmation Slack shows before a click on Cancel is sent. */
  const confirmation = (workOrderId: string) =>
    ((cardOf(workOrderId).blocks ?? []) as { type: string; elements?: { confirm?: { text: { text: string } } }[] }[])
      .flatMap((block) => (block.type === "actions" ? (block.elements ?? []) : []))
      .map((button) => button.confirm?.text.text);

  test("a click on Cancel of a running order cancels it and asks Temporal to cancel its workflow, as the card's confirmation says", async () => {
    const t = newBackend();
    const { workOrderId } = await aliceThreadWithOrder(t);
    await setStatus(t, workOrderId, "running");
    temporal.setStatus(workOrderId, "RUNNING");
    expect(confirmation(workOrderId)).toEqual(["SSO login is marked canceled, and its workflow is asked to stop."]);

    await postSlackForm(t, clickOn("work_order.cancel", workOrderId));
    await settle(t);
    expect((await orderOf(t, workOrderId)).status).toBe("canceled");
    expect(temporal.cancelRequests).toEqual([workOrderId]);
    expect(temporal.calls.at(-1)).toMatchObject({
      body: { reason: `Jangar work order canceled by ${slackUser(ALICE)}: canceled from Slack` },
    });
    expect(temporal.statusOf(workOrderId)).toBe("CANCELED");
  });

  test("`cancel <id>` does the same; a refused click asks Temporal nothing", async () => {
    const t = newBackend();
    const { workOrderId } = await aliceThreadWithOrder(t);
    await setStatus(t, workOrderId, "accepted");
    temporal.setStatus(workOrderId, "RUNNING");
    await postSlackForm(t, clickOn("work_order.cancel", workOrderId, { user: CAROL }));
    await settle(t);
    expect(temporal.cancelRequests).toEqual([]);
    await postSlackForm(t, slashCommand(`cancel ${workOrderId}`));
    await settle(t);
    expect(temporal.cancelRequests).toEqual([workOrderId]);
  });

  test("without TEMPORAL_HTTP_URL the confirmation promises no more than the status", async () => {
    vi.stubEnv("TEMPORAL_HTTP_URL", "");
    const t = newBackend();
    const { workOrderId } = await aliceThreadWithOrder(t);
    expect(confirmation(workOrderId)).toEqual(["SSO login is marked canceled."]);
  });
});
