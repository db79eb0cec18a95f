import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { FAKE_SLACK_TOKEN, FakeSlack } from "../../fakes/slack";
import aliceMentionsBot from "../../fixtures/slack/01-alice-mentions-bot.json";
import { newBackend, type Backend } from "../helpers/backend";
import { asService } from "../helpers/callers";
import { ANSWERS, orderLine, orderList, type OrderLine } from "../../src/slack/answers";
import { renderCard } from "../../src/slack/card";
import { literalSlackText, SLACK_MESSAGE_CHARS } from "../../src/slack/text";
import { truncate } from "../../src/text";
import { WORK_ORDER_STATUSES } from "../../src/workOrders/status";
import { domainTables } from "../helpers/assertions";
import { newSession, newWorkOrder, orderOf, statusHistory } from "../helpers/records";
import { settle, withFakeClock } from "../helpers/clock";
import { fetchFrom } from "../../fakes/http";
import { FakeTemporal, TEMPORAL_URL } from "../../fakes/temporal";
import {
  ALICE,
  BOB,
  TEAM,
  clickOn,
  configureSlackApp,
  newTriggerId,
  postSlackEvent,
  postSlackForm,
  slackSessionsOf,
  slashCommand,
} from "../helpers/senders/slack";
import { stored as storedDeliveries, storedBody } from "../helpers/inbox";

/*
 * Slack interactivity (docs/contract.md#slack-interactivity-cancel-and-retry-on-the-card-and-a-slash-command): the Cancel and Retry
 * buttons of a work order's card and the slash command, as the people in
 * Slack see them (the HTTP answer, the card, the messages only they see)
 * and as Jangar's server reads the orders back afterwards.
 */

let slack: FakeSlack;

withFakeClock({ now: new Date("2025-05-14T09:00:00Z") });
beforeEach(() => {
  slack = new FakeSlack();
  vi.stubGlobal("fetch", slack.fetch);
  configureSlackApp();
  vi.stubEnv("SLACK_BOT_TOKEN", FAKE_SLACK_TOKEN);
});
afterEach(() => {
  expect(slack.violations).toEqual([]);
});

const CAROL = "U03CAROL";
const CHANNEL = aliceMentionsBot.event.channel;
const THREAD_TS = aliceMentionsBot.event.ts;
const slackUser = (user: string) => `slack:${TEAM}:${user}`;

/** An order Bob requested, in the given session (Alice's). */
async function bobsOrderIn(t: Backend, sessionId: Id<"chat_sessions">) {
  return await asService(t).mutation(api.workOrders.create, {
    sessionId,
    workflowType: "codex-implement",
    prompt: "Bob's fix",
    title: "Bob's fix",
    requestedBy: slackUser(BOB),
  });
}

/** Alice's thread, bound to her session, with one work order of hers in it (and its card posted). */
async function aliceThreadWithOrder(t: Backend, fields: Parameters<typeof newWorkOrder>[2] = {}) {
  expect((await postSlackEvent(t, aliceMentionsBot)).status).toBe(200);
  await settle(t);
  const [session] = await slackSessionsOf(t, ALICE);
  const workOrderId = await newWorkOrder(t, session._id, fields);
  await settle(t);
  return { sessionId: session._id, workOrderId };
}

async function setStatus(t: Backend, workOrderId: Id<"work_orders">, ...statuses: ("accepted" | "running" | "succeeded" | "failed" | "canceled")[]) {
  for (const status of statuses) {
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status });
  }
  await settle(t);
}

/** The card of an order as Slack shows it: the one message in the thread whose blocks say they show the order. */
function cardOf(workOrderId: string) {
  const cards = slack.thread(CHANNEL, THREAD_TS).filter((message) => JSON.stringify(message.blocks ?? []).includes(`Work order \`${workOrderId}\``));
  expect(cards).toHaveLength(1);
  return cards[0];
}

/** The buttons a card shows, as `action_id=value`. */
function buttonsOf(workOrderId: string): string[] {
  const blocks = (cardOf(workOrderId).blocks ?? []) as { type: string; elements?: { action_id?: string; value?: string }[] }[];
  return blocks.flatMap((block) => (block.type === "actions" ? (block.elements ?? []) : [])).map((button) => `${button.action_id}=${button.value}`);
}

/** What a person's actions change besides the outbox (which carries the messages they are told). */
async function ordersAndHistory(t: Backend) {
  const { outbox: _outbox, outbox_lanes: _lanes, outbox_counters: _counts, ...tables } = await domainTables(t);
  return tables;
}

/** An operator replays a delivery (`ingest:replay`) and it runs to the end; returns the delivery's row and its attempt history. */
async function replayed(t: Backend, deliveryId: string) {
  const id = deliveryId as Id<"webhook_deliveries">;
  await t.mutation(internal.ingest.replay, { deliveryId: id });
  await settle(t);
  const delivery = (await storedDeliveries(t)).deliveries.find((row) => row._id === id)!;
  return { delivery, attempts: (await t.query(internal.ingest.attempts, { deliveryId: id })).map((attempt) => attempt.outcome) };
}

async function sessionOrders(t: Backend, sessionId: Id<"chat_sessions">) {
  const page = await asService(t).query(api.workOrders.listBySession, { sessionId, paginationOpts: { numItems: 50, cursor: null } });
  return page.page;
}

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
    expect(slack.ephemerals).toEqual([]);
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
    const calls = slack.calls.length;

    const response = await postSlackForm(t, clickOn("work_order.cancel", workOrderId, { user: CAROL }));
    expect(response.status).toBe(200);
    await settle(t);

    expect(await ordersAndHistory(t)).toEqual(before);
    expect(slack.calls.slice(calls).map((call) => call.method)).toEqual(["chat.postEphemeral"]);
    expect(slack.ephemerals).toEqual([
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
    expect(slack.ephemerals).toEqual([{ channel: CHANNEL, user: ALICE, threadTs: THREAD_TS, text: told }]);
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
    expect(slack.ephemerals).toEqual([]);
  });

  test("another click on Cancel of an order that click canceled (a new trigger_id) is still refused, and told", async () => {
    const t = newBackend();
    const { workOrderId } = await aliceThreadWithOrder(t);
    await postSlackForm(t, clickOn("work_order.cancel", workOrderId));
    await settle(t);
    const second = await postSlackForm(t, clickOn("work_order.cancel", workOrderId));
    await settle(t);
    expect(slack.ephemerals.map((message) => message.text)).toEqual(["*SSO login* is already canceled."]);
    expect((await storedDeliveries(t)).deliveries.find((row) => row._id === second.body.delivery)).toMatchObject({ status: "ignored" });
  });

  test("naming no order (a value that is no id, or an order that is gone): the clicker is told it is not found", async () => {
    const t = newBackend();
    await aliceThreadWithOrder(t);
    await postSlackForm(t, clickOn("work_order.cancel", "not-an-order"));
    await settle(t);
    expect(slack.ephemerals.map((message) => message.text)).toEqual(["No work order `not-an-order` that you may see."]);
  });
});

describe("Cancel stops the run, with Temporal", () => {
  let temporal: FakeTemporal;
  beforeEach(() => {
    temporal = new FakeTemporal({ namespace: "default" });
    vi.stubGlobal("fetch", fetchFrom([slack, temporal]));
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
    expect(slack.ephemerals).toEqual([]);
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
    expect(slack.ephemerals).toEqual([]);
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
    expect(slack.ephemerals.map((message) => message.text)).toEqual([`*SSO login* was already retried as \`${retry._id}\`.`]);
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
    expect(slack.ephemerals).toEqual([{ channel: CHANNEL, user, threadTs: THREAD_TS, text: told }]);
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
    expect(slack.ephemerals.map((message) => message.text)).toEqual([
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
    expect(slack.ephemerals).toEqual([]);
  });
});

describe("the slash command", () => {
  const reply = (text: string | RegExp) => ({
    status: 200,
    body: { response_type: "ephemeral", text: typeof text === "string" ? text : expect.stringMatching(text) },
  });

  test("`status` (or nothing) lists the caller's 10 most recently updated orders, with status and pull request, read through an index", async () => {
    vi.stubEnv("SLACK_BOT_TOKEN", undefined);
    const t = newBackend();
    const sessionId = await newSession(t, slackUser(ALICE));
    const create = async (title: string, requestedBy: string) => {
      vi.advanceTimersByTime(1000);
      return await asService(t).mutation(api.workOrders.create, { sessionId, workflowType: "codex-implement", prompt: title, title, requestedBy });
    };
    const alices: Id<"work_orders">[] = [];
    for (let i = 1; i <= 12; i += 1) {
      alices.push(await create(`Alice's order ${i}`, slackUser(ALICE)));
    }
    // Others' orders in the same session: a scan would read them; the index does not. (More than one person may hold live.)
    vi.stubEnv("JANGAR_MAX_LIVE_ORDERS", "200");
    for (let i = 1; i <= 120; i += 1) {
      await create(`Bob's order ${i}`, slackUser(BOB));
    }
    // The oldest two move: the first fails, the second gains a pull request (its updatedAt moves too).
    vi.advanceTimersByTime(120_000);
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId: alices[0], status: "failed" });
    vi.advanceTimersByTime(120_000);
    await asService(t).mutation(api.workOrderLinks.add, { workOrderId: alices[1], kind: "pr", value: "https://github.com/acme/api/pull/7" });

    const listed = [
      `• *Alice's order 2* · :inbox_tray: Submitted · PR <https://github.com/acme/api/pull/7|acme/api#7> · \`${alices[1]}\``,
      `• *Alice's order 1* · :x: Failed · \`${alices[0]}\``,
      ...[12, 11, 10, 9, 8, 7, 6, 5].map((n) => `• *Alice's order ${n}* · :inbox_tray: Submitted · \`${alices[n - 1]}\``),
    ];
    const answer = ["Your 10 most recently updated work orders:", ...listed].join("\n");
    const asked = await postSlackForm(t, slashCommand("status"));
    expect(asked).toEqual(reply(answer));
    expect(await postSlackForm(t, slashCommand(""))).toEqual(reply(answer));
    expect(await postSlackForm(t, slashCommand("  STATUS  "))).toEqual(reply(answer));
    expect(await postSlackForm(t, slashCommand("status", { user: CAROL }))).toEqual(reply("You have not requested any work orders."));

    const [first] = (await storedDeliveries(t)).deliveries;
    expect(first).toMatchObject({ event: "slash_command", action: "/jangar", status: "processed", attempts: 1 });
    // 132 orders exist: the answer reads its 10 (and their pull requests) through the index, not the others.
    expect(first.cost!.documentsRead).toBeLessThan(30);
  });

  test("`status <id>` shows one order the caller may see; another's, or none, is not found", async () => {
    const t = newBackend();
    const { workOrderId } = await aliceThreadWithOrder(t);
    const bobsSession = await newSession(t, slackUser(BOB));
    const bobs = await newWorkOrder(t, bobsSession, { title: "Bob's" });
    expect(await postSlackForm(t, slashCommand(`status ${workOrderId}`))).toEqual(reply(`*SSO login* · :inbox_tray: Submitted · \`${workOrderId}\``));
    expect(await postSlackForm(t, slashCommand(`status ${bobs}`))).toEqual(reply(`No work order \`${bobs}\` that you may see.`));
    expect(await postSlackForm(t, slashCommand("status k57nothing"))).toEqual(reply("No work order `k57nothing` that you may see."));
  });

  test("`cancel <id>` acts as the Cancel button, and the reply says what came of it", async () => {
    const t = newBackend();
    const { workOrderId } = await aliceThreadWithOrder(t);
    const bobsSession = await newSession(t, slackUser(BOB));
    const bobs = await newWorkOrder(t, bobsSession, { title: "Bob's" });
    await setStatus(t, workOrderId, "running");

    expect(await postSlackForm(t, slashCommand(`cancel ${workOrderId}`))).toEqual(reply("Canceled *SSO login*."));
    // Applied before the answer: the order is canceled by the time Slack shows it.
    expect((await orderOf(t, workOrderId)).status).toBe("canceled");
    expect((await statusHistory(t, workOrderId)).at(-1)).toMatchObject({ to: "canceled", source: "slack", actor: slackUser(ALICE) });
    expect(await postSlackForm(t, slashCommand(`cancel ${workOrderId}`))).toEqual(reply("*SSO login* is already canceled."));
    expect(await postSlackForm(t, slashCommand(`cancel ${bobs}`))).toEqual(reply(`No work order \`${bobs}\` that you may see.`));
    expect((await orderOf(t, bobs)).status).toBe("submitted");
    await settle(t);
    expect(cardOf(workOrderId).text).toBe("Work order SSO login: canceled");
    // The answer was the reply: nothing is posted for the person alone.
    expect(slack.ephemerals).toEqual([]);
    expect((await storedDeliveries(t)).deliveries.slice(-3).map((row) => row.status)).toEqual(["processed", "ignored", "ignored"]);
  });

  test("`cancel <id>` replayed by an operator after it worked stays processed with what it touched", async () => {
    const t = newBackend();
    const { workOrderId } = await aliceThreadWithOrder(t);
    expect(await postSlackForm(t, slashCommand(`cancel ${workOrderId}`))).toEqual(reply("Canceled *SSO login*."));
    const [command] = (await storedDeliveries(t)).deliveries.filter((row) => row.event === "slash_command");
    const { delivery, attempts } = await replayed(t, command._id);
    expect(delivery).toMatchObject({ status: "processed", touchedCount: 1, touched: command.touched });
    expect(attempts).toEqual(["processed", "replayed", "processed"]);
    expect(slack.ephemerals).toEqual([]);
  });

  test("`status` stays within one Slack message (3,900 characters, as sent) whatever the titles and links: ten orders of hostile titles and pull requests", async () => {
    vi.stubEnv("SLACK_BOT_TOKEN", undefined);
    const t = newBackend();
    const sessionId = await newSession(t, slackUser(ALICE));
    const ids = [];
    for (let i = 0; i < 10; i += 1) {
      const workOrderId = await asService(t).mutation(api.workOrders.create, {
        sessionId, workflowType: "w", prompt: "p", title: `<!channel> ${"&".repeat(189)}`, requestedBy: slackUser(ALICE),
      });
      await asService(t).mutation(api.workOrderLinks.add, {
        workOrderId, kind: "pr", value: `https://github.com/${"&".repeat(39)}/${"&".repeat(90)}/pull/${i + 1}`,
      });
      ids.push(workOrderId);
    }
    const { status, body } = await postSlackForm(t, slashCommand("status"));
    const text = body.text as string;
    expect(status).toBe(200);
    expect(text.length).toBeLessThanOrEqual(SLACK_MESSAGE_CHARS);
    expect(text).not.toContain("<!channel>");
    // Every order is still there, with its status and id; only titles and links gave way.
    for (const workOrderId of ids) {
      expect(text).toContain(`:inbox_tray: Submitted · \`${workOrderId}\``);
    }
  });

  test("`status`: links are dropped before titles are shortened", async () => {
    vi.stubEnv("SLACK_BOT_TOKEN", undefined);
    const t = newBackend();
    const sessionId = await newSession(t, slackUser(ALICE));
    // Ten lines of an 80-character title (160 escaped) and a linked pull request would be about 3,950 characters.
    const title = (i: number) => `Order ${i} ${"& ".repeat(20)}${"x".repeat(80 - 48)}`;
    for (let i = 0; i < 10; i += 1) {
      const workOrderId = await asService(t).mutation(api.workOrders.create, { sessionId, workflowType: "w", prompt: "p", title: title(i), requestedBy: slackUser(ALICE) });
      await asService(t).mutation(api.workOrderLinks.add, { workOrderId, kind: "pr", value: `https://github.com/acme/${"r".repeat(60)}/pull/${i + 1}` });
    }
    const text = (await postSlackForm(t, slashCommand("status"))).body.text as string;
    expect(text.length).toBeLessThanOrEqual(SLACK_MESSAGE_CHARS);
    const label = (i: number) => `acme/${"r".repeat(60)}#${i + 1}`;
    // Every title whole; the lines that did not fit their share show their pull request by its label alone.
    const shown = text.split("\n").slice(1).map((line, i) => {
      const n = 9 - i;
      expect(line).toContain(`• *${literalSlackText(title(n))}* · :inbox_tray: Submitted · PR `);
      return line.includes(`PR ${label(n)}`) ? "label" : line.includes(`|${label(n)}>`) ? "link" : "neither";
    });
    expect(shown).toContain("label");
    expect(shown).not.toContain("neither");
  });

  test("`status <id>` shows a title's `*`, `_`, `~` and backticks as written (lookalikes Slack does not format), and words' inner underscores as they are", async () => {
    const t = newBackend();
    const { sessionId } = await aliceThreadWithOrder(t);
    const workOrderId = await newWorkOrder(t, sessionId, { title: "*Bold* _it_ ~gone~ `rm -rf` snake_case 2*3" });
    expect(await postSlackForm(t, slashCommand(`status ${workOrderId}`))).toEqual(
      reply(`*\u2217Bold\u2217 \u02CDit\u02CD \u223Cgone\u223C \u02CBrm -rf\u02CB snake_case 2*3* · :inbox_tray: Submitted · \`${workOrderId}\``),
    );
    await settle(t);
    expect(cardOf(workOrderId).text).toBe("Work order \u2217Bold\u2217 \u02CDit\u02CD \u223Cgone\u223C \u02CBrm -rf\u02CB snake_case 2*3: submitted");
  });

  test.each(["help", "cancel", "status one two", "retry k57abc", "frobnicate now"])("%j gets the usage text, and is recorded as ignored", async (text) => {
    const t = newBackend();
    const usage =
      "Usage: `/jangar status` lists the work orders you asked for, most recently updated first; `/jangar status <work order id>` shows one; `/jangar cancel <work order id>` cancels one.";
    expect(await postSlackForm(t, slashCommand(text))).toEqual(reply(usage));
    expect((await storedDeliveries(t)).deliveries).toMatchObject([{ event: "slash_command", status: "ignored", ignoredReason: usage }]);
  });

  test("the same command sent twice (one trigger_id) is applied once: the second answer says so", async () => {
    const t = newBackend();
    const { workOrderId } = await aliceThreadWithOrder(t);
    const command = slashCommand(`cancel ${workOrderId}`);
    expect(await postSlackForm(t, command)).toEqual(reply("Canceled *SSO login*."));
    expect(await postSlackForm(t, command)).toEqual(reply("This request was received before, and answered then; nothing was done again."));
    expect((await statusHistory(t, workOrderId)).map((change) => change.to)).toEqual(["submitted", "canceled"]);
    expect((await storedDeliveries(t)).deliveries.filter((row) => row.event === "slash_command")).toHaveLength(1);
  });

  test("a command that cannot be recorded is answered 503 and changes nothing: its effect and its record go together", async () => {
    vi.stubEnv("SLACK_BOT_TOKEN", undefined);
    // Enough to create the order (order, history row); not to record a delivery and cancel in one transaction.
    const t = newBackend({ documentsWritten: 4 });
    const sessionId = await newSession(t, slackUser(ALICE));
    const workOrderId = await newWorkOrder(t, sessionId);
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const response = await postSlackForm(t, slashCommand(`cancel ${workOrderId}`));
    logged.mockRestore();
    expect(response).toEqual({ status: 503, body: { error: expect.stringMatching(/could not be recorded/) } });
    expect((await orderOf(t, workOrderId)).status).toBe("submitted");
    expect(await storedDeliveries(t)).toEqual({ deliveries: [], bodies: [], blobs: [] });
  });
});

describe("ephemeral answers in the channel's queue", () => {
  /** Moves the clock `ms` forward a step at a time, running each scheduled function when it is due (not all at the last one's time). */
  async function runFor(t: Backend, ms: number) {
    for (let step = 0; step < ms; step += 250) {
      await vi.advanceTimersByTimeAsync(250);
      await t.finishInProgressScheduledFunctions();
    }
  }

  test("a refusal goes out a second or so after the click, though a card edit in the channel waits 30 minutes for its retry; the edit still follows", async () => {
    const t = newBackend();
    const { workOrderId } = await aliceThreadWithOrder(t);
    slack.answerNext({ status: 429, retryAfter: "1800" });
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: "running" });
    // The edit is refused for half an hour; the channel's runner waits for it.
    await runFor(t, 5_000);
    const edit = slack.calls.at(-1)!;
    expect(edit).toMatchObject({ method: "chat.update", answer: { status: 429, retryAfter: "1800" } });

    const clickedAt = Date.now();
    await postSlackForm(t, clickOn("work_order.cancel", workOrderId, { user: CAROL }));
    await runFor(t, 3_000);
    expect(slack.calls.at(-1)).toMatchObject({ method: "chat.postEphemeral", args: { user: CAROL } });
    expect(slack.calls.at(-1)!.at - clickedAt).toBeLessThanOrEqual(2_000);
    expect(cardOf(workOrderId).text).toBe("Work order SSO login: submitted");

    await settle(t);
    const retried = slack.calls.at(-1)!;
    expect(retried).toMatchObject({ method: "chat.update", answer: "ok" });
    expect(retried.at - edit.at).toBeGreaterThanOrEqual(30 * 60_000);
    expect(cardOf(workOrderId).text).toBe("Work order SSO login: running");
    // Slack's pace per channel: never two requests within a second.
    const gaps = slack.calls.slice(1).map(({ at }, i) => at - slack.calls[i].at);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1_000);
  });

  test("an ephemeral answer waiting for its own retry holds back no card edit", async () => {
    const t = newBackend();
    const { workOrderId } = await aliceThreadWithOrder(t);
    slack.answerNext({ status: 429, retryAfter: "600" });
    await postSlackForm(t, clickOn("work_order.cancel", workOrderId, { user: CAROL }));
    await runFor(t, 5_000);
    expect(slack.calls.at(-1)).toMatchObject({ method: "chat.postEphemeral", answer: { status: 429, retryAfter: "600" } });

    const changedAt = Date.now();
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: "running" });
    await runFor(t, 3_000);
    expect(slack.calls.at(-1)).toMatchObject({ method: "chat.update", answer: "ok" });
    expect(slack.calls.at(-1)!.at - changedAt).toBeLessThanOrEqual(2_000);
    expect(cardOf(workOrderId).text).toBe("Work order SSO login: running");

    await settle(t);
    expect(slack.calls.at(-1)).toMatchObject({ method: "chat.postEphemeral", answer: "ok" });
    expect(slack.ephemerals.map((message) => message.user)).toEqual([CAROL]);
  });

  test("sixty refused clicks by a bystander delay neither the thread's next reply nor another person's answer", async () => {
    const t = newBackend();
    const { sessionId, workOrderId } = await aliceThreadWithOrder(t);
    for (let click = 0; click < 60; click += 1) {
      await postSlackForm(t, clickOn("work_order.cancel", workOrderId, { user: CAROL }));
    }
    await runFor(t, 500);
    expect(slack.ephemerals.length).toBeLessThan(60);

    const repliedAt = Date.now();
    await asService(t).mutation(api.chatMessages.append, { sessionId, role: "assistant", content: "The fix is deployed." });
    await postSlackForm(t, clickOn("work_order.retry", workOrderId, { user: BOB }));
    await runFor(t, 3_000);
    const reply = slack.calls.find((call) => call.method === "chat.postMessage" && call.args.text === "The fix is deployed.");
    expect(reply!.at - repliedAt).toBeLessThanOrEqual(2_000);
    const bobsAnswer = slack.calls.find((call) => call.method === "chat.postEphemeral" && call.args.user === BOB);
    expect(bobsAnswer!.at - repliedAt).toBeLessThanOrEqual(2_000);

    await settle(t);
    expect(slack.ephemerals.filter((message) => message.user === CAROL)).toHaveLength(60);
  });
});

describe("what a person is told, for any titles, links and reasons", () => {
  const SEED = Number(process.env.FC_SEED ?? Math.floor(Math.random() * 0x7fffffff));
  const hostile = (maxLength: number) =>
    fc.oneof(
      fc.string({ unit: fc.constantFrom("&", "<", ">", "|", "*", "_", "~", "`", "a", "é", "😀", " ", "\n"), maxLength, size: "max" }),
      fc.string({ unit: "grapheme", maxLength, size: "max" }),
    );
  const url = fc.oneof(
    fc.webUrl(),
    hostile(2048).map((path) => `https://github.com/${path}`),
    fc.tuple(hostile(900), hostile(900), fc.nat()).map(([owner, repo, n]) => `https://github.com/${owner}/${repo}/pull/${n}`),
  );
  // Ids as Convex makes them: what a list shows; a person may type anything after `status`.
  const id = fc.stringMatching(/^[a-z0-9]{32}$/);
  const line: fc.Arbitrary<OrderLine> = fc.record(
    { workOrderId: id, title: hostile(200), status: fc.constantFrom(...WORK_ORDER_STATUSES), pullRequest: url, retriedAs: id },
    { requiredKeys: ["workOrderId", "title", "status"] },
  );
  /** Every `<` opens a link this service made, so nothing a sender wrote mentions anyone (`<!channel>`) or links. */
  const expectNoMarkupFromSender = (text: string) => {
    expect(text.length).toBeLessThanOrEqual(SLACK_MESSAGE_CHARS);
    expect(text.replace(/<https?:\/\/[^<>|]*\|[^<>]*>/g, "")).not.toMatch(/[<>]/);
  };

  test("`status` lists every order within one message; `status <id>` and every answer fit one too", () => {
    console.info(`answers property: seed=${SEED} (rerun with FC_SEED=${SEED})`);
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 10 }), hostile(5000), hostile(300), (orders, reason, typed) => {
        const list = orderList(orders);
        expectNoMarkupFromSender(list);
        expect(list.split("\n• ")).toHaveLength(orders.length + 1);
        orders.forEach((order) => expect(list).toContain(`\`${order.workOrderId}\``));
        expectNoMarkupFromSender(orderLine({ ...orders[0], workOrderId: typed }));
        for (const answer of [
          ANSWERS.notFound(typed),
          ANSWERS.notYours(orders[0].title, "retry"),
          ANSWERS.notCanceled(orders[0].title, reason),
          ANSWERS.notRetried(orders[0].title, reason),
          ANSWERS.alreadyRetried(orders[0].title, typed),
        ]) {
          expectNoMarkupFromSender(answer);
        }
      }),
      { seed: SEED, numRuns: 100, endOnFailure: true },
    );
  });

  test("a title's formatting characters never reach Slack as formatting, in an answer or on a card", () => {
    fc.assert(
      fc.property(hostile(200), (title) => {
        const shown = literalSlackText(title);
        expect(shown).not.toMatch(/`|(?<![\p{L}\p{N}])[*_~]|[*_~](?![\p{L}\p{N}])/u);
        expect(ANSWERS.canceled(title)).toBe(`Canceled *${literalSlackText(truncate(title, 80))}*.`);
        const card = renderCard({ workOrderId: "k57abc", title, status: "running", pullRequests: [], morePullRequests: false });
        expect(card.blocks[0]).toMatchObject({ type: "section", text: { text: expect.not.stringMatching(/`/) } });
      }),
      { seed: SEED, numRuns: 100, endOnFailure: true },
    );
  });
});

describe("form bodies on /webhooks/slack", () => {
  // https://api.slack.com/authentication/verifying-requests-from-slack: a slash command.
  const VECTOR = {
    timestamp: "1531420618",
    body: "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c",
    signature: "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
  };

  test("Slack's published signing vector verifies as a form: a slash command, answered and recorded under its trigger_id", async () => {
    vi.stubEnv("SLACK_SIGNING_SECRET", "8f742231b10e8888abcd99yyyzzz85a5");
    vi.setSystemTime(Number(VECTOR.timestamp) * 1000 + 2000);
    const t = newBackend();
    const response = await postSlackForm(t, VECTOR.body, { timestamp: VECTOR.timestamp, headers: { "X-Slack-Signature": VECTOR.signature } });
    expect(response).toEqual({ status: 200, body: { response_type: "ephemeral", text: "You have not requested any work orders." } });
    const { deliveries } = await storedDeliveries(t);
    expect(deliveries).toMatchObject([
      {
        source: "slack",
        deliveryKey: "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c",
        contentType: "application/x-www-form-urlencoded",
        event: "slash_command",
        action: "/webhook-collect",
        status: "processed",
        bodyBytes: VECTOR.body.length,
      },
    ]);
    expect(new TextDecoder().decode(new Uint8Array(await storedBody(t, deliveries[0]._id)))).toBe(VECTOR.body);
  });

  const interaction = (fields: Record<string, unknown>) => `payload=${encodeURIComponent(JSON.stringify(fields))}`;
  const command = new URLSearchParams(slashCommand("status")).toString();
  const click = new URLSearchParams(clickOn("work_order.cancel", "k57f8gq2wz0d4r8qnw1h3x6f9s7v2c1b")).toString();

  test.each([
    ["two fields that are neither", "a=1&b=2", /slash command's form is not of the expected shape: command/],
    ["payload and more fields", `${click}&command=%2Fjangar`, /must be that one field/],
    ["payload that is not JSON", "payload=%7Bnot%20json", /payload.*not JSON/],
    ["a JSON body sent as a form", JSON.stringify(aliceMentionsBot), /neither an interaction/],
    ["a field given twice", `${command}&text=cancel`, /more than once/],
    ["a slash command without trigger_id", command.replace(/&trigger_id=[^&]*/, ""), /trigger_id/],
    ["a trigger_id with a space", command.replace(/trigger_id=[^&]*/, "trigger_id=1.2%203"), /trigger_id/],
    ["an interaction without trigger_id", interaction({ type: "block_actions", actions: [] }), /trigger_id/],
    ["a click without the clicked message's channel", interaction({ ...JSON.parse(clickOn("work_order.cancel", "k57x").payload), container: { type: "view", view_id: "V1" } }), /container/],
  ])("%s is 400, and nothing is stored", async (_label, body, error) => {
    const t = newBackend();
    const response = await postSlackForm(t, body);
    expect(response).toEqual({ status: 400, body: { error: expect.stringMatching(error) } });
    expect(await storedDeliveries(t)).toEqual({ deliveries: [], bodies: [], blobs: [] });
  });

  test("a signed message event whose text spells a slash command is that message, and nothing else: as a form it is 400", async () => {
    const t = newBackend();
    const { workOrderId } = await aliceThreadWithOrder(t);
    const forged = structuredClone(aliceMentionsBot);
    forged.event_id = "Ev08FORGED01";
    forged.event.text = `x&${new URLSearchParams(slashCommand(`cancel ${workOrderId}`)).toString()}&z=`;
    const asForm = await postSlackForm(t, JSON.stringify(forged));
    expect(asForm.status).toBe(400);
    expect((await orderOf(t, workOrderId)).status).toBe("submitted");
  });

  test("an interaction this app does not act on (a shortcut) is recorded as ignored", async () => {
    const t = newBackend();
    const response = await postSlackForm(t, interaction({ type: "shortcut", callback_id: "x", trigger_id: newTriggerId(), team: { id: TEAM }, user: { id: ALICE } }));
    expect(response).toEqual({ status: 200, body: { status: "ignored", delivery: expect.any(String), reason: "Slack's shortcut interaction is not acted on." } });
  });
});
