/**
 * Property-based tests (fast-check). Each prints its seed and number of
 * runs; rerun a failure with FC_SEED=<seed> (FC_NUM_RUNS for more runs).
 */
import fc from "fast-check";
import { describe, expect, test, vi } from "vitest";
import { api } from "../convex/_generated/api";
import type { Id } from "../convex/_generated/dataModel";
import { STANDARD_EVENTS } from "../src/sources/events/standardEvents";
import { newBackend, type Backend } from "./helpers/backend";
import { asService, asUser } from "./helpers/callers";
import { linkAdded, messageCreated, postEvent, statusChanged, type EventEnvelope } from "./helpers/senders/events";
import { githubRequest, postGithub } from "./helpers/senders/github";
import { domainTables, snapshotTables } from "./helpers/assertions";
import { newSession, newWorkOrder, statusHistory } from "./helpers/records";
import { withEverySenderConfigured } from "./helpers/senders/all";
import aliceMentionsBot from "../fixtures/slack/01-alice-mentions-bot.json";
import { ALICE, BOB, clickOn, FORM, postSlack, slashCommand, TEAM } from "./helpers/senders/slack";
import { settle } from "./helpers/clock";
import { keptBodies } from "./helpers/inbox";

const SEED = Number(process.env.FC_SEED ?? Math.floor(Math.random() * 0x7fffffff));
const runs = (standard: number) => Number(process.env.FC_NUM_RUNS ?? standard);

function check<T>(name: string, property: fc.IAsyncPropertyWithHooks<T> | fc.IAsyncProperty<T>, numRuns: number) {
  console.info(`${name}: seed=${SEED} numRuns=${numRuns} (rerun with FC_SEED=${SEED})`);
  return fc.assert(property, { seed: SEED, numRuns });
}

withEverySenderConfigured();

describe("any JSON body with a valid signature gets 200 or 400, never a 5xx", () => {
  const body = fc.oneof(
    fc.jsonValue({ maxDepth: 4 }),
    // Shapes close to what each sender sends, with random values inside.
    fc.record({ type: fc.constantFrom("event_callback", "url_verification", ...Object.keys(STANDARD_EVENTS)), data: fc.jsonValue({ maxDepth: 3 }), event: fc.jsonValue({ maxDepth: 3 }), event_id: fc.string(), team_id: fc.string(), challenge: fc.jsonValue({ maxDepth: 1 }) }, { requiredKeys: ["type"] }),
    fc.record({ action: fc.string(), ref: fc.jsonValue({ maxDepth: 1 }), commits: fc.jsonValue({ maxDepth: 3 }), repository: fc.jsonValue({ maxDepth: 2 }), pull_request: fc.jsonValue({ maxDepth: 3 }), issue: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: [] }),
  );

  test("on every route; stored exactly when answered 200", async () => {
    const t = newBackend();
    let posted = 0;
    await check(
      "signed JSON bodies",
      fc.asyncProperty(
        fc.constantFrom("github", "slack", "events"),
        fc.constantFrom("push", "pull_request", "issues", "ping", "star", "workflow_run"),
        body,
        async (route, githubEvent, payload) => {
          const response =
            route === "github"
              ? await postGithub(t, { event: githubEvent, payload })
              : route === "slack"
                ? await postSlack(t, { payload })
                : await postEvent(t, { event: payload as EventEnvelope });
          posted += 1;
          expect([200, 400], JSON.stringify(response.body)).toContain(response.status);
          const deliveries = await t.run(async (ctx) => (await ctx.db.query("webhook_deliveries").collect()).length);
          expect(await keptBodies(t)).toBe(deliveries);
          if (response.status === 200 && "delivery" in response.body) {
            expect(await t.run(async (ctx) => await ctx.db.get("webhook_deliveries", response.body.delivery as Id<"webhook_deliveries">))).not.toBeNull();
          }
          await settle(t);
        },
      ),
      runs(150),
    );
    expect(posted).toBeGreaterThan(0);
  });
});

describe("no signed body can be re-read as another (docs/contract.md#trust-boundary)", () => {
  const NOW = new Date("2026-03-02T09:00:00.000Z");
  const repository = { full_name: "acme/api" };
  const pullRequest = (body: string, merged: boolean) => ({
    html_url: "https://github.com/acme/api/pull/9",
    body,
    merged,
    merge_commit_sha: merged ? "9f2c4e1b7a3d5c6e8f0a1b2c3d4e5f60718293a4" : null,
    head: { ref: "main", repo: repository },
  });

  /** Text anyone may put in an issue, a comment, a pull request or a commit, `{victim}` standing for the order's id. */
  const senderText = fc.oneof(
    { arbitrary: fc.string({ maxLength: 30 }), weight: 1 },
    { arbitrary: fc.constantFrom(
      "Work-Order: {victim}",
      "Fixes it.\r\nWork-Order: {victim}\r\n",
      "&payload=",
      "a=1&b=2",
      `Nice!&payload=${encodeURIComponent(JSON.stringify({ action: "closed", repository, pull_request: pullRequest("Work-Order: {victim}", true) }))}&rest=`,
    ), weight: 4 },
  );

  /** A delivery GitHub really sends: its event, its payload and the content type the hook was set up with. */
  const genuine = fc.record({
    form: fc.boolean(),
    sent: fc.oneof(
      fc.record({ event: fc.constant("issues"), payload: senderText.map((body) => ({ action: "opened", repository, issue: { html_url: "https://github.com/acme/api/issues/7", body } })) }),
      fc.record({
        event: fc.constant("issue_comment"),
        payload: senderText.map((body) => ({ action: "created", repository, issue: { html_url: "https://github.com/acme/api/issues/7", body }, comment: { body } })),
      }),
      fc.record({
        event: fc.constant("pull_request"),
        payload: fc.tuple(senderText, fc.boolean()).map(([body, merged]) => ({ action: merged ? "closed" : "opened", number: 9, repository, pull_request: pullRequest(body, merged) })),
      }),
      fc.record({
        event: fc.constant("pull_request_review"),
        payload: senderText.map((body) => ({ action: "submitted", repository, pull_request: pullRequest(body, false), review: { body } })),
      }),
      fc.record({
        event: fc.constant("push"),
        payload: senderText.map((message) => ({ ref: "refs/heads/main", deleted: false, repository, commits: [{ id: "0123456789abcdef0123456789abcdef01234567", message }] })),
      }),
      fc.record({ event: fc.constant("ping"), payload: senderText.map((zen) => ({ zen, hook_id: 292430182 })) }),
    ),
  });

  /** What the sender may change without the secret: the Content-Type and the X-GitHub-Event headers. */
  const relabel = fc.record({
    contentType: fc.constantFrom("application/json", "application/json; charset=utf-8", "APPLICATION/JSON", FORM, `${FORM}; charset=utf-8`, "text/plain", `application/json, ${FORM}`),
    event: fc.constantFrom("issues", "issue_comment", "pull_request", "pull_request_review", "push", "ping", "star"),
  });

  /** A running order targeting acme/api's main branch, on a fresh backend at a fixed time. */
  async function arrange() {
    vi.setSystemTime(NOW);
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const victim = await newWorkOrder(t, sessionId, { target: { targetRepo: "acme/api", targetBranch: "main" } });
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId: victim, status: "running" });
    return { t, victim };
  }

  /** Every table but the inbox's own, without ids and creation times: what a delivery's effects changed. */
  async function effects(t: Backend) {
    const { work_order_link_counts: linkCounts, ...tables } = await domainTables(t);
    // The link count's shards are picked at random: what counts is each order's total.
    const linksPerOrder: Record<string, number> = {};
    for (const { workOrderId, count } of linkCounts as { workOrderId: string; count: number }[]) {
      linksPerOrder[workOrderId] = (linksPerOrder[workOrderId] ?? 0) + count;
    }
    tables.work_order_link_counts = Object.entries(linksPerOrder).map(([workOrderId, count]) => ({ workOrderId, count }));
    return Object.fromEntries(
      Object.entries(tables).map(([table, rows]) => [table, rows.map((row) => ({ ...(row as object), _id: undefined, _creationTime: undefined }))]),
    );
  }

  async function post(t: Backend, init: RequestInit, headers: Record<string, string>) {
    await t.fetch("/webhooks/github", { ...init, headers: { ...(init.headers as Record<string, string>), ...headers } });
    await settle(t);
    return await effects(t);
  }

  /** Text a Slack user may write in a message or after the slash command, `victim` standing for the order's id. */
  const slackText = fc.oneof(
    { arbitrary: fc.string({ maxLength: 30 }).map((text) => () => text), weight: 1 },
    {
      arbitrary: fc.constantFrom(
        (victim: string) => `cancel ${victim}`,
        (victim: string) => `status ${victim}`,
        // A slash command's fields, and a click's `payload` field, spelled out in the text.
        (victim: string) => `x&${new URLSearchParams(slashCommand(`cancel ${victim}`, { triggerId: "1.2.forged" })).toString()}&z=`,
        (victim: string) => `&${new URLSearchParams(clickOn("work_order.cancel", victim, { triggerId: "1.2.forged" })).toString()}&`,
        () => "a=1&b=2",
      ),
      weight: 4,
    },
  );

  /** A request Slack really sends: a message in the bound thread (JSON), a slash command or a click (forms), by the order's owner or another. */
  const genuineSlack = fc.record({
    kind: fc.constantFrom("message", "command", "click"),
    user: fc.constantFrom(ALICE, BOB),
    text: slackText,
    action: fc.constantFrom("work_order.cancel", "work_order.retry") as fc.Arbitrary<"work_order.cancel" | "work_order.retry">,
  });

  function slackBodyOf({ kind, user, text, action }: { kind: string; user: string; text: (victim: string) => string; action: "work_order.cancel" | "work_order.retry" }, victim: string) {
    const triggerId = "8913227104615.7711034220.5b1f0c3a9e8d4f27";
    switch (kind) {
      case "message": {
        const ts = "1772442005.000200";
        const event = { type: "message", user, text: text(victim), ts, thread_ts: aliceMentionsBot.event.ts, channel: aliceMentionsBot.event.channel };
        return { contentType: "application/json", body: JSON.stringify({ ...aliceMentionsBot, event_id: "Ev08PROPERTY1", event }) };
      }
      case "command":
        return { contentType: FORM, body: new URLSearchParams(slashCommand(text(victim), { user, triggerId })).toString() };
      default:
        return { contentType: FORM, body: new URLSearchParams(clickOn(action, victim, { user, triggerId })).toString() };
    }
  }

  /** A running order of Alice's, in her session bound to her Slack thread, on a fresh backend at a fixed time. */
  async function arrangeSlack() {
    vi.setSystemTime(NOW);
    const t = newBackend();
    const sessionId = await asService(t).mutation(api.chatSessions.create, { title: "the login page 500s", userId: `slack:${TEAM}:${ALICE}` });
    const victim = await newWorkOrder(t, sessionId);
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId: victim, status: "running" });
    const { channel, ts } = aliceMentionsBot.event;
    await t.run(async (ctx) => {
      await ctx.db.insert("slack_threads", { team: TEAM, channel, threadTs: ts, sessionId });
    });
    return { t, victim };
  }

  test("for any signed Slack request and any Content-Type, the effects are those of its genuine reading, or none", async () => {
    const contentTypes = fc.constantFrom("application/json", "application/json; charset=utf-8", FORM, `${FORM}; charset=utf-8`, "text/plain", `application/json, ${FORM}`);
    await check(
      "relabelled Slack requests",
      fc.asyncProperty(genuineSlack, contentTypes, async (sent, contentType) => {
        const asSent = await arrangeSlack();
        const { body, contentType: genuineType } = slackBodyOf(sent, asSent.victim);
        const none = await effects(asSent.t);
        await postSlack(asSent.t, { body, headers: { "Content-Type": genuineType } });
        await settle(asSent.t);
        const genuineEffects = await effects(asSent.t);

        const relabelled = await arrangeSlack();
        expect(relabelled.victim).toBe(asSent.victim);
        const answer = await postSlack(relabelled.t, { body, headers: { "Content-Type": contentType } });
        expect([200, 400, 415]).toContain(answer.status);
        await settle(relabelled.t);
        const relabelledEffects = await effects(relabelled.t);
        if (JSON.stringify(relabelledEffects) !== JSON.stringify(none)) {
          expect(relabelledEffects).toEqual(genuineEffects);
        }
      }),
      runs(40),
    );
  });

  test("for any signed GitHub body and any Content-Type and event header, the effects are those of its genuine reading, or none; and posted before the genuine request, they change nothing of its effects", async () => {
    await check(
      "relabelled GitHub deliveries",
      fc.asyncProperty(genuine, relabel, async ({ form, sent }, { contentType, event }) => {
        const asSent = await arrange();
        const payload = JSON.parse(JSON.stringify(sent.payload).replaceAll("{victim}", asSent.victim)) as unknown;
        const init = await githubRequest({ event: sent.event, payload, form, guid: "5f0e8a10-2b6c-11ef-9a3d-0242ac120002" });
        const none = await effects(asSent.t);
        const genuineEffects = await post(asSent.t, init, {});

        const relabelled = await arrange();
        expect(relabelled.victim).toBe(asSent.victim);
        const relabelledEffects = await post(relabelled.t, init, { "Content-Type": contentType, "X-GitHub-Event": event });
        if (JSON.stringify(relabelledEffects) !== JSON.stringify(none)) {
          expect(relabelledEffects).toEqual(genuineEffects);
        }
        // The genuine request after the relabelled copy (same key, same body): its effects are all there.
        expect(await post(relabelled.t, init, {})).toEqual(genuineEffects);
      }),
      runs(40),
    );
  });
});

describe("deliveries shuffled and duplicated leave the state they leave in order", () => {
  const STATUS_PATH = ["accepted", "running"] as const;
  const TERMINAL = ["succeeded", "failed", "canceled"] as const;
  const LINKS = [
    ["pr", "https://github.com/acme/api/pull/12"],
    ["pr", "https://github.com/acme/api/pull/13"],
    ["github_issue", "https://github.com/acme/api/issues/7"],
    ["commit", "0123456789abcdef0123456789abcdef01234567"],
    ["commit", "fedcba9876543210fedcba9876543210fedcba98"],
  ] as const;

  /** What one workflow runner reports for one order: a forward path of statuses, links, messages. */
  const life = fc.record({
    statuses: fc.subarray([...STATUS_PATH]),
    terminal: fc.option(fc.constantFrom(...TERMINAL), { nil: undefined }),
    links: fc.subarray([...LINKS.keys()]),
    messages: fc.array(fc.string({ minLength: 1, maxLength: 30 }).filter((text) => text.trim().length > 0), { maxLength: 3 }),
  });

  type Sent = { id: string; event: EventEnvelope };
  type Life = { statuses: string[]; terminal?: string; links: number[]; messages: string[] };

  async function arrange(t: Backend) {
    const sessionId = await newSession(t, "alice");
    const orders = [await newWorkOrder(t, sessionId), await newWorkOrder(t, sessionId)];
    return { sessionId, orders };
  }

  function eventsOf(lives: Life[], sessionId: Id<"chat_sessions">, orders: Id<"work_orders">[]): Sent[] {
    const sent: Sent[] = [];
    lives.forEach((one, i) => {
      for (const status of [...one.statuses, ...(one.terminal ? [one.terminal] : [])]) {
        sent.push({ id: `msg_${i}_status_${status}`, event: statusChanged(orders[i], status, `runner says ${status}`) });
      }
      for (const link of one.links) {
        sent.push({ id: `msg_${i}_link_${link}`, event: linkAdded(orders[i], LINKS[link][0], LINKS[link][1]) });
      }
      one.messages.forEach((content, m) => {
        sent.push({ id: `msg_${i}_message_${m}`, event: messageCreated(sessionId, { role: "assistant", content }) });
      });
    });
    return sent;
  }

  async function finalState(t: Backend, sessionId: Id<"chat_sessions">, orders: Id<"work_orders">[]) {
    const service = asService(t);
    const messages = await service.query(api.chatMessages.listBySession, { sessionId, paginationOpts: { numItems: 100, cursor: null } });
    return {
      orders: await Promise.all(
        orders.map(async (workOrderId) => {
          const order = (await service.query(api.workOrders.get, { workOrderId }))!;
          return { status: order.status, links: order.links.map((link) => `${link.kind} ${link.value}`).sort() };
        }),
      ),
      messages: messages.page.map((message) => message.content).sort(),
    };
  }

  const RANK: Record<string, number> = { submitted: 1, accepted: 2, running: 3, succeeded: 4, failed: 4, canceled: 4 };

  test("same statuses, each link once, messages once, statuses only forward", async () => {
    await check(
      "shuffled deliveries",
      fc.asyncProperty(
        fc.tuple(life, life),
        fc.array(fc.nat(), { minLength: 1, maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        async (lives, order, duplicates) => {
          const inOrder = newBackend();
          const a = await arrange(inOrder);
          for (const { id, event } of eventsOf(lives, a.sessionId, a.orders)) {
            await postEvent(inOrder, { id, event });
            await settle(inOrder);
          }

          const shuffled = newBackend();
          const b = await arrange(shuffled);
          const sent = eventsOf(lives, b.sessionId, b.orders);
          // A permutation driven by `order`, then some deliveries sent again with their ids.
          const pending = [...sent];
          const sequence: Sent[] = [];
          for (let i = 0; pending.length > 0; i += 1) {
            sequence.push(pending.splice(order[i % order.length] % pending.length, 1)[0]);
          }
          for (const pick of duplicates) {
            if (sent.length > 0) sequence.splice(pick % (sequence.length + 1), 0, sent[pick % sent.length]);
          }
          // Processing runs now and then, so that some duplicates find their first copy processed and some not.
          for (const [i, { id, event }] of sequence.entries()) {
            const response = await postEvent(shuffled, { id, event });
            expect(["accepted", "duplicate"]).toContain(response.body.status);
            if (order[i % order.length] % 3 === 0) await settle(shuffled);
          }
          await settle(shuffled);

          expect(await finalState(shuffled, b.sessionId, b.orders)).toEqual(await finalState(inOrder, a.sessionId, a.orders));
          for (const workOrderId of b.orders) {
            const ranks = (await statusHistory(shuffled, workOrderId)).map((change) => RANK[change.to]);
            expect(ranks).toEqual([...ranks].sort((x, y) => x - y));
            expect(new Set(ranks.slice(1)).size).toBe(ranks.length - 1);
          }
        },
      ),
      runs(25),
    );
  });
});

describe("random calls by random users never reach another user's records", () => {
  const USERS = ["alice", "bob", "carol"] as const;
  type User = (typeof USERS)[number];

  const call = fc.record({
    by: fc.constantFrom(...USERS),
    on: fc.nat(),
    kind: fc.constantFrom(
      "createSession",
      "getSession",
      "listSessionsNamingOwner",
      "append",
      "listMessages",
      "createOrder",
      "getOrder",
      "listOrders",
      "cancelOrder",
      "upsertArg",
      "upsertTarget",
      "addLink",
    ),
  });

  test("reads of others' records are empty, writes are NOT_FOUND and change nothing", async () => {
    await check(
      "cross-user calls",
      fc.asyncProperty(fc.array(call, { minLength: 1, maxLength: 30 }), async (calls) => {
        const t = newBackend();
        const sessions: { id: Id<"chat_sessions">; owner: User }[] = [];
        const orders: { id: Id<"work_orders">; owner: User }[] = [];
        for (const user of USERS) {
          const id = await newSession(t, user, `${user}'s first session`);
          sessions.push({ id, owner: user });
          orders.push({ id: await newWorkOrder(t, id), owner: user });
        }
        for (const { by, on, kind } of calls) {
          const as = asUser(t, by);
          const session = sessions[on % sessions.length];
          const order = orders[on % orders.length];
          const owner = ["createOrder", "append", "listMessages", "getSession", "listOrders", "listSessionsNamingOwner"].includes(kind) ? session.owner : order.owner;
          const mine = owner === by;
          const before = await snapshotTables(t);
          const attempt = async () => {
            switch (kind) {
              case "createSession":
                sessions.push({ id: await as.mutation(api.chatSessions.create, { title: "new" }), owner: by });
                return "wrote";
              case "getSession":
                return await as.query(api.chatSessions.get, { sessionId: session.id });
              case "listSessionsNamingOwner":
                return (await as.query(api.chatSessions.list, { userId: session.owner, paginationOpts: { numItems: 50, cursor: null } })).page;
              case "append":
                await as.mutation(api.chatMessages.append, { sessionId: session.id, role: "user", content: `${by} was here` });
                return "wrote";
              case "listMessages":
                return (await as.query(api.chatMessages.listBySession, { sessionId: session.id, paginationOpts: { numItems: 50, cursor: null } })).page;
              case "createOrder":
                orders.push({
                  id: await as.mutation(api.workOrders.create, { sessionId: session.id, workflowType: "codex", prompt: "p", title: "t" }),
                  owner: session.owner,
                });
                return "wrote";
              case "getOrder":
                return await as.query(api.workOrders.get, { workOrderId: order.id });
              case "listOrders":
                return (await as.query(api.workOrders.listBySession, { sessionId: session.id, paginationOpts: { numItems: 50, cursor: null } })).page;
              case "cancelOrder":
                await as.mutation(api.workOrders.updateStatus, { workOrderId: order.id, status: "canceled" });
                return "wrote";
              case "upsertArg":
                await as.mutation(api.workOrderArgs.upsert, { workOrderId: order.id, name: "by", value: by });
                return "wrote";
              case "upsertTarget":
                await as.mutation(api.workOrderTargets.upsert, { workOrderId: order.id, targetRepo: `${by}/repo`, targetBranch: "main" });
                return "wrote";
              case "addLink":
                await as.mutation(api.workOrderLinks.add, { workOrderId: order.id, kind: "github_issue", value: `https://github.com/${by}/repo/issues/1` });
                return "wrote";
            }
          };
          const outcome = await attempt().then(
            (value) => ({ ok: true as const, value }),
            (error: { data?: { code?: string } }) => ({ ok: false as const, code: error.data?.code }),
          );
          if (kind === "createSession" || mine) {
            // One's own records: never NOT_FOUND (a refused transition is fine).
            if (!outcome.ok) expect(outcome.code).toBe("INVALID_TRANSITION");
            if (outcome.ok && outcome.value !== "wrote") expect(outcome.value).not.toEqual(null);
          } else if (outcome.ok) {
            // Someone else's: reads see nothing.
            expect(outcome.value === null || (Array.isArray(outcome.value) && outcome.value.length === 0), `${by} ${kind} of ${owner}'s`).toBe(true);
          } else {
            // Naming another user is a mistake the caller can fix, not a missing record.
            expect(outcome.code, `${by} ${kind} of ${owner}'s`).toBe(kind === "listSessionsNamingOwner" ? "INVALID_ARGUMENT" : "NOT_FOUND");
          }
          if (!outcome.ok) {
            expect(await snapshotTables(t)).toEqual(before);
          }
        }
      }),
      runs(40),
    );
  });
});
