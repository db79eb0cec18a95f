import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { api } from "../../convex/_generated/api";
import aliceMentionsBot from "../../fixtures/slack/01-alice-mentions-bot.json";
import { canonicalBranch, canonicalRepo } from "../../src/workOrders/repos";
import { newBackend } from "../helpers/backend";
import { asService } from "../helpers/callers";
import { settle, withFakeClock } from "../helpers/clock";
import { ALICE, TEAM, clickOn, postSlackEvent, postSlackForm, slackSessionsOf, withFakeSlack } from "../helpers/senders/slack";

/*
 * A target's canonical form is a fixed point (docs/contract.md#hardening-rules):
 * canonicalizing it again changes nothing, so a target read back and
 * written again, or copied by a Retry, stays what it was.
 */

const owner = fc.stringMatching(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,6}[A-Za-z0-9])?$/);
const name = fc.stringMatching(/^[A-Za-z0-9._-]{1,10}$/);
const spelling = fc.constantFrom("", "https://github.com/", "http://www.github.com/", "git@github.com:", "ssh://git@github.com/", "git://github.com/");
/** Repositories as people and tools spell them: any form, `.git` any number of times, a trailing slash, any case. */
const repository = fc
  .tuple(spelling, owner, name, fc.nat({ max: 3 }), fc.boolean(), fc.boolean())
  .map(([prefix, who, what, gits, slash, upper]) => {
    const text = `${prefix}${who}/${what}${".git".repeat(gits)}${slash ? "/" : ""}`;
    return upper ? text.toUpperCase() : text;
  });

function fixedPoint(canonical: (raw: string) => { ok: boolean; value?: string }, raw: string) {
  const once = canonical(raw);
  if (!once.ok) return;
  expect(canonical(once.value!)).toEqual(once);
}

describe("canonical forms are fixed points", () => {
  test("canonicalizing a repository again changes nothing, however it was spelled", () => {
    fc.assert(
      fc.property(fc.oneof(repository, fc.string({ maxLength: 60 }), fc.string({ unit: "grapheme", maxLength: 30 })), (raw) => fixedPoint(canonicalRepo, raw)),
      { numRuns: 1000 },
    );
    expect(canonicalRepo("acme/foo.git.git")).toEqual({ ok: true, value: "acme/foo" });
    expect(canonicalRepo("https://github.com/Acme/Foo.git/")).toEqual({ ok: true, value: "acme/foo" });
  });

  test("canonicalizing a branch again changes nothing", () => {
    const branch = fc
      .tuple(fc.nat({ max: 3 }), fc.stringMatching(/^[A-Za-z0-9._/-]{1,20}$/))
      .map(([prefixes, rest]) => `${"refs/heads/".repeat(prefixes)}${rest}`);
    fc.assert(
      fc.property(fc.oneof(branch, fc.string({ maxLength: 40 })), (raw) => fixedPoint(canonicalBranch, raw)),
      { numRuns: 1000 },
    );
    expect(canonicalBranch("refs/heads/refs/heads/sso")).toEqual({ ok: true, value: "sso" });
  });
});

describe("a Retry copies the target exactly", () => {
  withFakeClock({ now: new Date("2025-05-14T09:00:00Z") });
  withFakeSlack();

  test("a failed order on `acme/foo.git.git`, branch `refs/heads/refs/heads/sso`, is retried on the target it has", async () => {
    const t = newBackend();
    expect((await postSlackEvent(t, aliceMentionsBot)).status).toBe(200);
    await settle(t, 2000);
    const [session] = await slackSessionsOf(t, ALICE);
    const failed = await asService(t).mutation(api.workOrders.create, {
      sessionId: session._id,
      workflowType: "codex-implement",
      prompt: "Make the login page accept SSO.",
      title: "SSO login",
      requestedBy: `slack:${TEAM}:${ALICE}`,
      target: { targetRepo: "acme/foo.git.git", targetBranch: "refs/heads/refs/heads/sso" },
    });
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId: failed, status: "failed" });
    await settle(t, 2000);
    expect((await postSlackForm(t, clickOn("work_order.retry", failed))).status).toBe(200);
    await settle(t, 2000);

    const { page } = await asService(t).query(api.workOrders.listBySession, { sessionId: session._id, paginationOpts: { numItems: 10, cursor: null } });
    expect(page).toHaveLength(2);
    const [copy, original] = await Promise.all(page.map(({ _id }) => asService(t).query(api.workOrders.get, { workOrderId: _id })));
    expect(copy!.target).toEqual(original!.target);
    expect(original!.target).toEqual({ targetRepo: "acme/foo", targetBranch: "sso" });
  });
});
