import { beforeEach, describe, expect, test, vi } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import aliceMentionsBot from "../../fixtures/slack/01-alice-mentions-bot.json";
import { expectConvexError, expectNothingWritten } from "../helpers/assertions";
import { newBackend, type Backend } from "../helpers/backend";
import { asService, asUser } from "../helpers/callers";
import { settle, withFakeClock } from "../helpers/clock";
import { linksOf, newSession, statusOf } from "../helpers/records";
import { ALICE, BOB, TEAM, clickOn, postSlackEvent, postSlackForm, slackSessionsOf, withFakeSlack } from "../helpers/senders/slack";
import { seedOrders, type Target } from "../helpers/orders/crowds";
import { merge, PR } from "../helpers/github/deliveries";

/*
 * No one user can crowd a selector (docs/contract.md#hardening-rules): a
 * merged pull request never moves a draft order, and a user holds at most
 * JANGAR_MAX_LIVE_ORDERS live orders (default 50), past which
 * workOrders:create and Retry are RESOURCE_EXHAUSTED naming the setting.
 */

withFakeClock({ now: new Date("2025-05-14T09:00:00Z") });

const FEATURE: Target = { targetRepo: "acme/api", targetBranch: "feature/sso" };
const MERGE_COMMIT = "9049f1265b7d61be4a8904a9a27120d2064dab3b";

/** An order requested by `requestedBy` in the session, created by Jangar's server. */
async function orderOf(
  t: Backend,
  sessionId: Id<"chat_sessions">,
  requestedBy: string,
  fields: { status?: "draft" | "submitted"; target?: Target; title?: string } = {},
) {
  return await asService(t).mutation(api.workOrders.create, {
    sessionId,
    workflowType: "codex-implement",
    prompt: "Make the login page accept SSO.",
    title: fields.title ?? "SSO login",
    requestedBy,
    status: fields.status,
    target: fields.target,
  });
}

describe("a merged pull request never moves a draft", () => {
  test("drafts reached by the branch, by the pull request's link and by a marker are linked to the merge and stay drafts; the submitted order on the branch succeeds", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const submitted = await orderOf(t, sessionId, "alice", { target: FEATURE });
    const onBranch = await orderOf(t, sessionId, "bob", { status: "draft", target: FEATURE });
    const linked = await orderOf(t, sessionId, "bob", { status: "draft" });
    await asService(t).mutation(api.workOrderLinks.add, { workOrderId: linked, kind: "pr", value: PR });
    const marked = await orderOf(t, sessionId, "bob", { status: "draft" });

    const delivery = await merge(t, PR, MERGE_COMMIT, `Adds SSO.\n\nWork-Order: ${marked}`);
    expect(delivery.status).toBe("processed");
    expect(await statusOf(t, submitted)).toBe("succeeded");
    for (const draft of [onBranch, linked, marked]) {
      expect(await statusOf(t, draft)).toBe("draft");
      expect(await linksOf(t, draft)).toEqual([
        { kind: "pr", value: PR },
        { kind: "commit", value: MERGE_COMMIT },
      ]);
    }
    expect(delivery.skipped).toEqual(
      expect.arrayContaining(
        [onBranch, linked, marked].map((draft) => `Work order ${draft} is a draft: the merged pull request is linked to it, and it stays a draft.`),
      ),
    );
  });

  test("a draft submitted before the merge is moved like any live order", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const workOrderId = await orderOf(t, sessionId, "alice", { status: "draft", target: FEATURE });
    await asUser(t, "alice").mutation(api.workOrders.updateStatus, { workOrderId, status: "submitted" });
    await merge(t, PR, MERGE_COMMIT);
    expect(await statusOf(t, workOrderId)).toBe("succeeded");
  });
});

describe("JANGAR_MAX_LIVE_ORDERS: the live orders one user holds", () => {
  test("past the limit, workOrders:create is RESOURCE_EXHAUSTED naming the setting and writes nothing; drafts count; a finished or canceled order frees a place; others are not held back", async () => {
    vi.stubEnv("JANGAR_MAX_LIVE_ORDERS", "3");
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const alice = asUser(t, "alice");
    const create = (status?: "draft" | "submitted") =>
      alice.mutation(api.workOrders.create, { sessionId, workflowType: "codex-implement", prompt: "Fix it.", title: "Fix", status });
    const first = await create("draft");
    const second = await create();
    await create();

    await expectNothingWritten(t, async () => {
      const error = await expectConvexError(create("draft"), "RESOURCE_EXHAUSTED");
      expect(error.message).toMatch(/alice already holds 3 live work orders .*JANGAR_MAX_LIVE_ORDERS allows 3/);
    });
    // Jangar's server creating for Alice counts against Alice; for Bob, it does not.
    await expectConvexError(orderOf(t, sessionId, "alice"), "RESOURCE_EXHAUSTED");
    await orderOf(t, sessionId, "bob");

    await alice.mutation(api.workOrders.updateStatus, { workOrderId: first, status: "canceled" });
    await create();
    await expectConvexError(create(), "RESOURCE_EXHAUSTED");
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId: second, status: "succeeded" });
    await create();
  });

  test("the default is 50, counted for orders written before the limit existed once the migration has run", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    // Orders as written directly and then indexed by the migration (requestedBy alice).
    await seedOrders(t, sessionId, 30, { status: "draft" });
    await seedOrders(t, sessionId, 19, { status: "running" });
    await seedOrders(t, sessionId, 200, { status: "succeeded" });
    await orderOf(t, sessionId, "alice");
    const error = await expectConvexError(orderOf(t, sessionId, "alice"), "RESOURCE_EXHAUSTED");
    expect(error.message).toContain("JANGAR_MAX_LIVE_ORDERS allows 50");
  });

  test("counting a user's live orders reads no more with 200 finished orders of theirs, nor with 40 live orders of others", async () => {
    vi.stubEnv("JANGAR_LOG_COST", "1");
    const costs: { documentsRead: number }[] = [];
    vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
      const line = args.map(String).join(" ");
      if (line.startsWith("cost {")) costs.push(JSON.parse(line.slice("cost ".length)));
    });
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    await seedOrders(t, sessionId, 10, { status: "submitted" });
    await orderOf(t, sessionId, "alice");
    await seedOrders(t, sessionId, 200, { status: "failed" });
    const others = await newSession(t, "carol");
    for (let i = 0; i < 40; i += 1) await orderOf(t, others, `carol-${i % 2}`);
    costs.length = 0;
    await orderOf(t, sessionId, "alice");
    expect(costs).toHaveLength(1);
    // The session, and the 11 live orders' index rows.
    expect(costs[0].documentsRead).toBe(1 + 11);
  });

  test("a setting that is not a positive whole number is an error naming it", async () => {
    vi.stubEnv("JANGAR_MAX_LIVE_ORDERS", "2.5");
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    await expect(orderOf(t, sessionId, "alice")).rejects.toThrow(/JANGAR_MAX_LIVE_ORDERS is "2.5"; it must be a positive whole number/);
  });
});

describe("JANGAR_MAX_LIVE_ORDERS and Retry from Slack", () => {
  const fake = withFakeSlack();
  beforeEach(() => {
    vi.stubEnv("JANGAR_MAX_LIVE_ORDERS", "2");
  });

  const slackUser = (user: string) => `slack:${TEAM}:${user}`;

  test("Retry counts against the failed order's requester, whoever clicks: past the limit it is refused, naming the setting, and makes no order", async () => {
    const t = newBackend();
    expect((await postSlackEvent(t, aliceMentionsBot)).status).toBe(200);
    await settle(t, 2000);
    const [session] = await slackSessionsOf(t, ALICE);
    // Bob's order in Alice's thread fails; Bob holds two live orders elsewhere.
    const failed = await orderOf(t, session._id, slackUser(BOB), { title: "Bob's fix" });
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId: failed, status: "failed" });
    const bobs = await newSession(t, slackUser(BOB));
    const live = [await orderOf(t, bobs, slackUser(BOB)), await orderOf(t, bobs, slackUser(BOB))];
    await settle(t, 2000);

    const before = await asService(t).query(api.workOrders.listBySession, { sessionId: session._id, paginationOpts: { numItems: 10, cursor: null } });
    expect((await postSlackForm(t, clickOn("work_order.retry", failed))).status).toBe(200);
    await settle(t, 2000);
    const after = await asService(t).query(api.workOrders.listBySession, { sessionId: session._id, paginationOpts: { numItems: 10, cursor: null } });
    expect(after.page).toEqual(before.page);
    expect(fake.slack.ephemerals.map((message) => message.text)).toEqual([
      expect.stringMatching(/^\*Bob's fix\* was not retried: .*holds 2 live work orders .*JANGAR_MAX_LIVE_ORDERS allows 2/),
    ]);

    // One of Bob's orders finishes: Alice's click retries it, for Bob.
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId: live[0], status: "succeeded" });
    expect((await postSlackForm(t, clickOn("work_order.retry", failed))).status).toBe(200);
    await settle(t, 2000);
    const retried = await asService(t).query(api.workOrders.listBySession, { sessionId: session._id, paginationOpts: { numItems: 10, cursor: null } });
    expect(retried.page).toHaveLength(2);
    expect(retried.page[0]).toMatchObject({ title: "Bob's fix", status: "submitted", requestedBy: slackUser(BOB) });
  });
});
