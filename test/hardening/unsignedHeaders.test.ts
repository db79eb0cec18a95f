import { describe, expect, test } from "vitest";
import { internal } from "../../convex/_generated/api";
import { newBackend, type Backend } from "../helpers/backend";
import { githubRequest, postGithub } from "../helpers/senders/github";
import { newSession, orderOf } from "../helpers/records";
import { withEverySenderConfigured } from "../helpers/senders/all";
import { stored, expectNothingStored } from "../helpers/inbox/deliveries";
import { settle } from "../helpers/clock";
import { liveOrder } from "../helpers/orders/crowds";

/*
 * The receiving side's trust boundary
 * (docs/contract.md#trust-boundary): the headers GitHub does not sign (the
 * Content-Type, the event header, the delivery GUID) cannot make a signed
 * body mean something else, nor make a real delivery disappear.
 */

withEverySenderConfigured();

const FORM = "application/x-www-form-urlencoded";
const MERGE_SHA = "9f2c4e1b7a3d5c6e8f0a1b2c3d4e5f60718293a4";

/** A running work order, the target of acme/api's main branch. */
async function runningOrder(t: Backend) {
  return await liveOrder(t, await newSession(t, "alice"), { targetRepo: "acme/api", targetBranch: "main" });
}

/** A pull_request `closed` event with `merged: true` that names the order by a marker. */
function mergeOf(workOrderId: string) {
  return {
    action: "closed",
    number: 9,
    repository: { full_name: "acme/api" },
    pull_request: {
      html_url: "https://github.com/acme/api/pull/9",
      body: `Work-Order: ${workOrderId}`,
      merged: true,
      merge_commit_sha: MERGE_SHA,
      head: { ref: "main", repo: { full_name: "acme/api" } },
    },
  };
}

/** Posts a request GitHub signed, with some of its unsigned headers changed. */
async function resend(t: Backend, signed: RequestInit, headers: Record<string, string>) {
  const response = await t.fetch("/webhooks/github", {
    ...signed,
    headers: { ...(signed.headers as Record<string, string>), ...headers },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("a body is read only as its Content-Type says", () => {
  test("a signed issues body that smuggles `&payload=` cannot be re-sent as a form-encoded merge: 400, the order untouched", async () => {
    const t = newBackend();
    const victim = await runningOrder(t);
    // Anyone may open an issue; GitHub signs its text, whatever it holds.
    const issue = {
      action: "opened",
      repository: { full_name: "acme/api" },
      issue: {
        html_url: "https://github.com/acme/api/issues/77",
        body: `Nice project!&payload=${encodeURIComponent(JSON.stringify(mergeOf(victim)))}&rest=`,
      },
    };
    const signed = await githubRequest({ event: "issues", payload: issue });

    const forged = await resend(t, signed, {
      "Content-Type": FORM,
      "X-GitHub-Event": "pull_request",
      "X-GitHub-Delivery": "d1b0c6a2-0000-4000-8000-000000000001",
    });
    await settle(t);
    expect(forged).toEqual({ status: 400, body: { error: expect.stringContaining("payload") } });
    expect(await orderOf(t, victim)).toMatchObject({ status: "running", links: [] });
    await expectNothingStored(t);

    // The same bytes as GitHub sent them are an issues event, and only that.
    const genuine = await resend(t, signed, {});
    expect(genuine).toEqual({ status: 200, body: { status: "accepted", delivery: expect.any(String) } });
    await settle(t);
    expect(await orderOf(t, victim)).toMatchObject({ status: "running", links: [] });
  });

  test.each([
    ["a second field after payload", (json: string) => `payload=${encodeURIComponent(json)}&hook=1`],
    ["a field before payload", (json: string) => `zen=1&payload=${encodeURIComponent(json)}`],
    ["payload twice", (json: string) => `payload=${encodeURIComponent(json)}&payload=${encodeURIComponent(json)}`],
  ])("a form-encoded body with %s is 400: a GitHub form body is exactly one field, payload", async (_label, form) => {
    const t = newBackend();
    const victim = await runningOrder(t);
    const signed = await githubRequest({ event: "pull_request", payload: null });
    const body = form(JSON.stringify(mergeOf(victim)));
    const { signGithubPayload } = await import("../../src/sources/github/signature");
    const response = await resend(t, { ...signed, body }, {
      "Content-Type": FORM,
      "X-Hub-Signature-256": await signGithubPayload("It's a Secret to Everybody", body),
    });
    expect(response).toEqual({ status: 400, body: { error: expect.stringContaining("payload") } });
    await settle(t);
    expect((await orderOf(t, victim)).status).toBe("running");
    await expectNothingStored(t);
  });

  test.each([
    [
      "an issue_comment payload sent as issues",
      "issues",
      {
        action: "created",
        repository: { full_name: "acme/api" },
        issue: { html_url: "https://github.com/acme/api/issues/5", body: "Work-Order: x" },
        comment: { body: "+1" },
      },
    ],
    [
      "a pull_request_review payload sent as pull_request",
      "pull_request",
      {
        action: "submitted",
        repository: { full_name: "acme/api" },
        pull_request: { html_url: "https://github.com/acme/api/pull/9", body: "", head: { ref: "main", repo: null } },
        review: { state: "approved" },
      },
    ],
  ])("%s (X-GitHub-Event is not signed) is 400", async (_label, event, payload) => {
    const t = newBackend();
    const response = await postGithub(t, { event, payload });
    expect(response).toEqual({ status: 400, body: { error: expect.stringMatching(/payload/) } });
    await expectNothingStored(t);
  });
});

describe("a duplicate is the same key AND the same body", () => {
  test("a captured signed ping re-posted under a future delivery GUID no longer swallows the real merge: both kept, the merge applied, one conflict counted", async () => {
    const t = newBackend();
    const order = await runningOrder(t);
    const hookId = "292430182";
    const futureGuid = "5f0e8a10-2b6c-11ef-9a3d-0242ac120002";
    // A ping the attacker captured (any signed body will do), sent first under the GUID the merge will have.
    const claimed = await postGithub(t, { event: "ping", payload: { zen: "Half measures are as bad as nothing at all.", hook_id: 292430182 }, hookId, guid: futureGuid });
    expect(claimed.status).toBe(200);
    const merge = await postGithub(t, { event: "pull_request", payload: mergeOf(order), hookId, guid: futureGuid });
    expect(merge).toEqual({ status: 200, body: { status: "accepted", delivery: expect.any(String) } });
    expect(merge.body.delivery).not.toBe(claimed.body.delivery);
    await settle(t);

    expect(await orderOf(t, order)).toMatchObject({
      status: "succeeded",
      links: [
        { kind: "pr", value: "https://github.com/acme/api/pull/9" },
        { kind: "commit", value: MERGE_SHA },
      ],
    });
    const { deliveries } = await stored(t);
    expect(deliveries.map((row) => [row.event, row.deliveryKey, row.status])).toEqual([
      ["ping", `${hookId}:${futureGuid}`, "processed"],
      ["pull_request", `${hookId}:${futureGuid}`, "processed"],
    ]);
    const inbox = await t.query(internal.ingest.inboxStatus, {});
    expect(inbox.conflicts).toEqual([
      { source: "github", count: 1 },
      { source: "slack", count: 0 },
      { source: "events", count: 0 },
    ]);

    // The real merge redelivered (same key, same body) is its duplicate, and not a conflict.
    const redelivered = await postGithub(t, { event: "pull_request", payload: mergeOf(order), hookId, guid: futureGuid });
    expect(redelivered.body).toEqual({ status: "duplicate", delivery: merge.body.delivery });
    expect((await t.query(internal.ingest.inboxStatus, {})).conflicts[0]).toEqual({ source: "github", count: 1 });
  });

  test("the genuine merge, posted after a copy someone relabelled X-GitHub-Event: star, is no duplicate of it: stored, applied, one conflict counted", async () => {
    const t = newBackend();
    const order = await runningOrder(t);
    const signed = await githubRequest({ event: "pull_request", payload: mergeOf(order), guid: "5f0e8a10-2b6c-11ef-9a3d-0242ac120002" });
    // Whoever holds the signed request (a second hook with the same secret, a request answered 503) posts it first, relabelled.
    const relabelled = await resend(t, signed, { "X-GitHub-Event": "star" });
    expect(relabelled).toEqual({ status: 200, body: { status: "ignored", delivery: expect.any(String), reason: expect.stringContaining("star") } });

    const genuine = await resend(t, signed, {});
    await settle(t);
    expect(genuine).toEqual({ status: 200, body: { status: "accepted", delivery: expect.any(String) } });
    expect((await orderOf(t, order)).status).toBe("succeeded");
    const { deliveries } = await stored(t);
    expect(deliveries.map((row) => [row.event, row.status])).toEqual([
      ["star", "ignored"],
      ["pull_request", "processed"],
    ]);
    expect((await t.query(internal.ingest.inboxStatus, {})).conflicts[0]).toEqual({ source: "github", count: 1 });
    // GitHub's redelivery of the genuine request is its duplicate.
    expect(await resend(t, signed, {})).toEqual({ status: 200, body: { status: "duplicate", delivery: genuine.body.delivery } });
  });
});
