/**
 * A signed body is read one way only: relabelling its Content-Type or its
 * event header never gives it other effects.
 * A property (fast-check): it prints its seed and number of runs; rerun a
 * failure with FC_SEED=<seed> (FC_NUM_RUNS for more runs).
 */
import fc from "fast-check";
import { describe, expect, test, vi } from "vitest";
import { api } from "../../../convex/_generated/api";
import { newBackend, type Backend } from "../../helpers/backend";
import { asService } from "../../helpers/callers";
import { githubRequest } from "../../helpers/senders/github";
import { domainTables } from "../../helpers/assertions";
import { newSession, newWorkOrder } from "../../helpers/records";
import { withEverySenderConfigured } from "../../helpers/senders/all";
import aliceMentionsBot from "../../../fixtures/slack/01-alice-mentions-bot.json";
import { ALICE, BOB, clickOn, FORM, postSlack, slashCommand, TEAM } from "../../helpers/senders/slack";
import { settle } from "../../helpers/clock";
import { check, runs } from "../../helpers/fastCheck";

withEverySenderConfigured();

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
