import { beforeEach, describe, expect, test, vi } from "vitest";
import { internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import aliceMentionsBot from "../../fixtures/slack/01-alice-mentions-bot.json";
import bobReplies from "../../fixtures/slack/03-bob-replies.json";
import bobEditsReply from "../../fixtures/slack/10-bob-edits-reply.json";
import { newBackend, type Backend } from "../helpers/backend";
import { liveOrder } from "../helpers/orders/crowds";
import { pushOf, sha, postGithub } from "../helpers/senders/github";
import { EVENTS_SECRET, linkAdded, messageCreated, postEvent, statusChanged } from "../helpers/senders/events";
import { domainTables } from "../helpers/assertions";
import { linksOf, messagesOf, newSession, statusOf } from "../helpers/records";
import { withFakeClock, settle } from "../helpers/clock";
import { deliveryRow } from "../helpers/inbox/deliveries";
import { clickOn, configureSlackApp, postSlackEvent, postSlackForm, slackSessionsOf, ALICE } from "../helpers/senders/slack";

/*
 * Half of a surrogate pair (`"\ud800"` in a sender's JSON) is valid JSON and
 * valid UTF-8 on the wire, and a string Convex cannot hold once parsed
 * (docs/contract.md#trust-boundary): it never fails a delivery. Where it
 * would be stored the effect is skipped with the reason; an id holding it
 * finds nothing.
 */

const HALF = "\ud800";
const NOT_WELL_FORMED = /not well-formed Unicode/;

withFakeClock();
beforeEach(() => {
  configureSlackApp();
  vi.stubEnv("EVENTS_WEBHOOK_SECRET", EVENTS_SECRET);
});

/** The delivery once processing has run to its end (retries included). */
async function settled(t: Backend, response: { status: number; body: Record<string, unknown> }) {
  expect(response).toMatchObject({ status: 200, body: { status: "accepted" } });
  await settle(t);
  return await deliveryRow(t, response.body.delivery);
}

/** A delivery the rule leaves with nothing to do: ignored at its first attempt, with the reason, no error. */
async function expectIgnoredForHalfPair(t: Backend, deliveryId: unknown) {
  const delivery = await deliveryRow(t, deliveryId);
  expect(delivery).toMatchObject({ status: "ignored", attempts: 1 });
  expect(delivery.error).toBeUndefined();
  expect(delivery.ignoredReason).toMatch(NOT_WELL_FORMED);
  return delivery;
}

describe("Slack", () => {
  test("an app_mention whose text holds half a surrogate pair starts no session, and is ignored with the reason", async () => {
    const t = newBackend();
    const before = await domainTables(t);
    const mention = structuredClone(aliceMentionsBot);
    mention.event.text = `<@U0JANGAR> the login page ${HALF} 500s`;
    const delivery = await settled(t, await postSlackEvent(t, mention));
    await expectIgnoredForHalfPair(t, delivery._id);
    expect(await domainTables(t)).toEqual(before);
  });

  test("a message_changed whose new text holds half a surrogate pair leaves the mirrored message as it was", async () => {
    const t = newBackend();
    await settled(t, await postSlackEvent(t, aliceMentionsBot));
    await settled(t, await postSlackEvent(t, bobReplies));
    const [session] = await slackSessionsOf(t, ALICE);
    const messages = await messagesOf(t, session._id);

    const edit = structuredClone(bobEditsReply);
    edit.event.message.text = `Same here ${HALF}`;
    const delivery = await settled(t, await postSlackEvent(t, edit));
    await expectIgnoredForHalfPair(t, delivery._id);
    expect(await messagesOf(t, session._id)).toEqual(messages);
  });

  test("a click whose button value holds half a surrogate pair finds no order, and is ignored with the reason", async () => {
    const t = newBackend();
    const before = await domainTables(t);
    const response = await postSlackForm(t, clickOn("work_order.cancel", `k57a${HALF}`));
    const delivery = await settled(t, response);
    await expectIgnoredForHalfPair(t, delivery._id);
    expect(await domainTables(t)).toEqual(before);
  });
});

describe("GitHub", () => {
  const SSO = { targetRepo: "acme/api", targetBranch: "feature/sso" };
  const PR = "https://github.com/acme/api/pull/12";

  test("a merged pull request whose head.ref holds half a surrogate pair finds no order by its branch; its markers still reach theirs", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const onBranch = await liveOrder(t, sessionId, SSO);
    const marked = await liveOrder(t, sessionId);
    const response = await postGithub(t, {
      event: "pull_request",
      payload: {
        action: "closed",
        repository: { full_name: "acme/api" },
        pull_request: {
          html_url: PR,
          body: `Work-Order: ${marked}`,
          merged: true,
          merge_commit_sha: sha(7),
          head: { ref: `feature/sso${HALF}`, repo: { full_name: "acme/api" } },
        },
      },
    });
    const delivery = await settled(t, response);
    expect(delivery).toMatchObject({ status: "processed", attempts: 1 });
    expect(delivery.skipped).toEqual([expect.stringMatching(/^Nothing found for work orders targeting acme\/api:feature\/sso\uFFFD: it is not well-formed Unicode/)]);
    expect(await statusOf(t, marked)).toBe("succeeded");
    expect(await linksOf(t, marked)).toEqual(expect.arrayContaining([{ kind: "pr", value: PR }, { kind: "commit", value: sha(7) }]));
    expect(await statusOf(t, onBranch)).toBe("running");
    expect(await linksOf(t, onBranch)).toEqual([]);
  });

  test("a push whose ref holds half a surrogate pair links its commits by their markers, noting the branch once", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const marked = await liveOrder(t, sessionId);
    const payload = { ...pushOf(SSO, 3, 1, () => `Step\n\nWork-Order: ${marked}`), ref: `refs/heads/feature/sso${HALF}` };
    const delivery = await settled(t, await postGithub(t, { event: "push", payload }));
    expect(delivery).toMatchObject({ status: "processed", attempts: 1, touchedCount: 3 });
    expect(delivery.skipped).toEqual([expect.stringMatching(NOT_WELL_FORMED)]);
    expect(await linksOf(t, marked)).toHaveLength(3);
  });

  test("a push deleting a branch whose name holds half a surrogate pair is recorded ignored, its reason stored well-formed", async () => {
    const t = newBackend();
    const payload = { ...pushOf(SSO, 0), deleted: true, ref: `refs/heads/gone${HALF}` };
    const response = await postGithub(t, { event: "push", payload });
    expect(response).toMatchObject({ status: 200, body: { status: "ignored", reason: "The push deletes refs/heads/gone\uFFFD." } });
    expect(await deliveryRow(t, response.body.delivery)).toMatchObject({ status: "ignored", ignoredReason: "The push deletes refs/heads/gone\uFFFD." });
  });
});

describe("Standard Webhooks events", () => {
  test("work_order.status.changed for a workOrderId holding half a surrogate pair finds no order, and is ignored with the reason", async () => {
    const t = newBackend();
    const before = await domainTables(t);
    const delivery = await settled(t, await postEvent(t, { event: statusChanged(`k57a${HALF}`, "running") }));
    const ignored = await expectIgnoredForHalfPair(t, delivery._id);
    expect(ignored.ignoredReason).toMatch(/^Nothing found for work order k57a\uFFFD: it is not well-formed Unicode/);
    expect(await domainTables(t)).toEqual(before);
  });

  test("work_order.link.added for an order id or a link value holding half a surrogate pair adds no link", async () => {
    const t = newBackend();
    const workOrderId = await liveOrder(t, await newSession(t, "alice"));
    const before = await domainTables(t);
    for (const event of [
      linkAdded(`${workOrderId}${HALF}`, "pr", "https://github.com/acme/api/pull/12"),
      linkAdded(workOrderId, "pr", `https://github.com/acme${HALF}/api/pull/12`),
    ]) {
      const delivery = await settled(t, await postEvent(t, { event }));
      await expectIgnoredForHalfPair(t, delivery._id);
    }
    expect(await domainTables(t)).toEqual(before);
  });

  test("chat.message.created for a sessionId holding half a surrogate pair appends nothing, and is ignored with the reason", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const before = await domainTables(t);
    const delivery = await settled(t, await postEvent(t, { event: messageCreated(`${sessionId}${HALF}`, { role: "user", content: "hi" }) }));
    await expectIgnoredForHalfPair(t, delivery._id);
    expect(await domainTables(t)).toEqual(before);
  });

  test("replayed, such a delivery is ignored again, for the same reason, never failed", async () => {
    const t = newBackend();
    const delivery = await settled(t, await postEvent(t, { event: statusChanged(`k57a${HALF}`, "running") }));
    const first = await expectIgnoredForHalfPair(t, delivery._id);
    await t.mutation(internal.ingest.replay, { deliveryId: delivery._id as Id<"webhook_deliveries"> });
    await settle(t);
    const replayed = await expectIgnoredForHalfPair(t, delivery._id);
    expect(replayed.ignoredReason).toBe(first.ignoredReason);
    const outcomes = await t.run(async (ctx) =>
      (await ctx.db.query("delivery_attempts").withIndex("by_deliveryId", (q) => q.eq("deliveryId", delivery._id)).collect()).map((row) => row.outcome),
    );
    expect(outcomes).toEqual(["ignored", "replayed", "ignored"]);
  });
});
