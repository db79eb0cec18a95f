import examples from "@octokit/webhooks-examples";
import type { IssuesMilestonedEvent, IssuesOpenedEvent, PullRequestClosedEvent, PullRequestOpenedEvent, PushEvent } from "@octokit/webhooks-types";
import { describe, expect, test } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { GITHUB_EVENTS } from "../../src/sources/github/events";
import { newBackend, type Backend } from "../helpers/backend";
import { asService } from "../helpers/callers";
import { postGithub } from "../helpers/senders/github";
import { linksOf, newSession, newWorkOrder, orderOf, statusHistory } from "../helpers/records";
import { withFakeClock, settle } from "../helpers/clock";
import { deliveryRow } from "../helpers/inbox";

withFakeClock();

const HELLO_WORLD = "https://github.com/codertocat/hello-world";
const ISSUE_1 = `${HELLO_WORLD}/issues/1`;
const PR_2 = `${HELLO_WORLD}/pull/2`;

type Seeded = Record<"onMaster" | "onChanges" | "linkedToIssue" | "linkedToPr" | "failedOnMaster" | "elsewhere", Id<"work_orders">>;

/**
 * Work orders around the examples' repository (Codertocat/Hello-World):
 * targets on the push branch and the pull request's head branch, orders
 * already linked to issue #1 and pull request #2, a failed order on the push
 * branch (rule 1 must pass it by), and one unrelated order.
 */
async function seed(t: Backend): Promise<Seeded> {
  const service = asService(t);
  const sessionId = await newSession(t, "alice");
  const order = async (
    status: "running" | "failed" | "submitted",
    target?: { targetRepo: string; targetBranch: string },
    link?: { kind: "pr" | "github_issue"; value: string },
  ) => {
    const workOrderId = await newWorkOrder(t, sessionId, { target });
    if (status !== "submitted") {
      await service.mutation(api.workOrders.updateStatus, { workOrderId, status: "running" });
    }
    if (status === "failed") {
      await service.mutation(api.workOrders.updateStatus, { workOrderId, status: "failed" });
    }
    if (link) {
      await service.mutation(api.workOrderLinks.add, { workOrderId, ...link });
    }
    return workOrderId;
  };
  return {
    onMaster: await order("running", { targetRepo: "git@github.com:Codertocat/Hello-World.git", targetBranch: "master" }),
    onChanges: await order("running", { targetRepo: "codertocat/hello-world", targetBranch: "changes" }),
    linkedToIssue: await order("submitted", undefined, { kind: "github_issue", value: ISSUE_1 }),
    linkedToPr: await order("running", undefined, { kind: "pr", value: PR_2 }),
    failedOnMaster: await order("failed", { targetRepo: "Codertocat/Hello-World", targetBranch: "master" }),
    elsewhere: await order("running", { targetRepo: "acme/api", targetBranch: "master" }, {
      kind: "github_issue",
      value: "https://github.com/acme/api/issues/1",
    }),
  };
}

async function seededBackend() {
  const t = newBackend();
  return { t, seeded: await seed(t) };
}

/** Every link, status and history row of the seeded orders: what a delivery may change. */
async function workOrderState(t: Backend, seeded: Seeded) {
  const state: Record<string, unknown> = {};
  for (const [name, workOrderId] of Object.entries(seeded)) {
    const order = await orderOf(t, workOrderId);
    state[name] = { status: order.status, links: order.links, history: (await statusHistory(t, workOrderId)).length };
  }
  return state;
}

type Example = { name: string; payload: Record<string, unknown> & { action?: string; ref?: string; deleted?: boolean } };
const corpus: Example[] = examples.flatMap((definition) =>
  definition.examples.map((payload) => ({ name: definition.name, payload: payload as Example["payload"] })),
);

type Link = { kind: string; value: string };
/** What GitHub is answered (and the delivery's status: `processed` or `ignored`), and the links each seeded order gains. */
type Outcome = { answer: "accepted" | "ignored"; gains?: Partial<Record<keyof Seeded, Link[]>> };

/**
 * The effects table (docs/contract.md#github-x-github-event) worked out by
 * hand for the examples, by event, and by ref for a push. Every issues
 * example names issue #1 (already linked to `linkedToIssue`), pull request #2
 * (already linked to `linkedToPr`) or an issue no order is linked to; every
 * pull_request example is #2, unmerged, from Codertocat/Hello-World's
 * `changes` (rule 1 reaches `onChanges`); no example carries a marker.
 */
const ACTED_ON: Record<string, Outcome> = {
  ping: { answer: "accepted" },
  issues: { answer: "accepted" },
  pull_request: { answer: "accepted", gains: { onChanges: [{ kind: "pr", value: PR_2 }] } },
  "push refs/heads/master": { answer: "accepted", gains: { onMaster: [{ kind: "commit", value: "6113728f27ae82c7b1a177c8d03f9e96e0adf246" }] } },
  // A tag names no branch: rule 1 reaches no order.
  "push refs/tags/simple-tag": { answer: "accepted" },
  "push refs/tags/simple-tag, deleted": { answer: "ignored" },
  // Comments are read only with GITHUB_APP_SLUG set, unset here (commentMessages.test.ts reads them).
  issue_comment: { answer: "ignored" },
  pull_request_review: { answer: "ignored" },
  pull_request_review_comment: { answer: "ignored" },
};

/** The events of the examples that the contract's table leaves out ("anything else"): recorded and ignored. */
const NOT_ACTED_ON = [
  "branch_protection_rule", "check_run", "check_suite", "code_scanning_alert", "commit_comment", "create", "delete",
  "dependabot_alert", "deploy_key", "deployment", "deployment_review", "deployment_status", "discussion",
  "discussion_comment", "fork", "github_app_authorization", "gollum", "installation", "installation_repositories",
  "label", "marketplace_purchase", "member", "membership", "merge_group", "meta", "milestone",
  "organization", "org_block", "package", "page_build", "project", "project_card", "project_column", "projects_v2_item",
  "public", "pull_request_review_thread", "release",
  "repository_dispatch", "repository", "repository_import", "repository_vulnerability_alert", "security_advisory",
  "sponsorship", "star", "status", "team", "team_add", "watch", "workflow_dispatch", "workflow_job", "workflow_run",
];

/** The row of the tables above that an example falls under. */
function rowOf(example: Example): string {
  return example.name === "push" ? `push ${example.payload.ref}${example.payload.deleted ? ", deleted" : ""}` : example.name;
}

function outcomeOf(example: Example): Outcome {
  return ACTED_ON[rowOf(example)] ?? { answer: "ignored" };
}

describe("every api.github.com example of @octokit/webhooks-examples, signed and posted", () => {
  test("the corpus has the events this service acts on, and every example falls under one row of the expected effects", () => {
    const names = new Set(corpus.map((example) => example.name));
    for (const name of Object.keys(GITHUB_EVENTS)) {
      expect(names).toContain(name);
    }
    expect(corpus).toHaveLength(329);
    const unlisted = corpus.filter((example) => !(rowOf(example) in ACTED_ON) && !NOT_ACTED_ON.includes(example.name));
    expect(unlisted.map(rowOf)).toEqual([]);
    expect(Object.keys(ACTED_ON).filter((row) => !corpus.some((example) => rowOf(example) === row))).toEqual([]);
  });

  // Examples that change no order share one seeded backend (each compares the orders before and after it);
  // those that link one get a fresh backend, so that each shows its own effect.
  let unchanging: { t: Backend; seeded: Seeded } | undefined;

  test.each(corpus.map((example, i) => [`${example.name} ${example.payload.action ?? ""} #${i}`, example] as const))(
    "%s: answered without a 5xx, with exactly the contract's effects",
    async (_label, example) => {
      const expected = outcomeOf(example);
      const { t, seeded } = expected.gains === undefined ? (unchanging ??= await seededBackend()) : await seededBackend();
      const before = await workOrderState(t, seeded);
      const response = await postGithub(t, { event: example.name, payload: example.payload });
      await settle(t);

      expect(response.status).toBe(200);
      expect(response.body.status).toBe(expected.answer);
      const delivery = await deliveryRow(t, response.body.delivery);
      expect(delivery.status).toBe(expected.answer === "accepted" ? "processed" : "ignored");
      const after = structuredClone(before) as Record<string, { links: Link[] }>;
      for (const [order, links] of Object.entries(expected.gains ?? {})) {
        after[order].links.push(...links);
      }
      expect(await workOrderState(t, seeded)).toEqual(after);
    },
  );
});

/** An example payload of an event, by action, as a fresh object to edit. */
function example<Payload>(name: string, action?: string): Payload {
  const found = corpus.find((e) => e.name === name && (action === undefined || e.payload.action === action));
  return structuredClone(found!.payload) as Payload;
}

describe("GitHub effects", () => {
  test("a merged pull request links the merge commit and moves its orders to succeeded", async () => {
    const t = newBackend();
    const seeded = await seed(t);
    const merged = example<PullRequestClosedEvent>("pull_request", "closed");
    merged.pull_request.merged = true;
    merged.pull_request.merge_commit_sha = "C0FFEE0000000000000000000000000000000001";
    const response = await postGithub(t, { event: "pull_request", payload: merged, hookId: "77", guid: "merge-1" });
    await settle(t);

    for (const name of ["onChanges", "linkedToPr"] as const) {
      const order = await orderOf(t, seeded[name]);
      expect(order.status).toBe("succeeded");
      expect(order.links).toEqual(
        expect.arrayContaining([
          { kind: "pr", value: PR_2 },
          { kind: "commit", value: "c0ffee0000000000000000000000000000000001" },
        ]),
      );
      expect((await statusHistory(t, seeded[name])).at(-1)).toMatchObject({
        from: "running",
        to: "succeeded",
        source: "github",
        reason: `pull request merged: ${PR_2}`,
        actor: "github:77:merge-1",
      });
    }
    const onMaster = await orderOf(t, seeded.onMaster);
    expect(onMaster.status).toBe("running");
    const delivery = await deliveryRow(t, response.body.delivery);
    expect(delivery.status).toBe("processed");
    expect(delivery.touched!.map((touch) => touch.change)).toEqual(
      expect.arrayContaining([`status running -> succeeded`]),
    );
  });

  test("a merged pull request without a merge commit SHA still succeeds its orders", async () => {
    const t = newBackend();
    const seeded = await seed(t);
    const merged = example<PullRequestClosedEvent>("pull_request", "closed");
    merged.pull_request.merged = true;
    merged.pull_request.merge_commit_sha = null;
    await postGithub(t, { event: "pull_request", payload: merged });
    await settle(t);
    const order = await orderOf(t, seeded.onChanges);
    expect(order.status).toBe("succeeded");
    expect(order.links).toEqual([{ kind: "pr", value: PR_2 }]);
  });

  test("a merge seen after the order failed is recorded on the delivery, not applied", async () => {
    const t = newBackend();
    const seeded = await seed(t);
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId: seeded.linkedToPr, status: "failed" });
    const historyBefore = await statusHistory(t, seeded.linkedToPr);
    const merged = example<PullRequestClosedEvent>("pull_request", "closed");
    merged.pull_request.merged = true;
    merged.pull_request.merge_commit_sha = "c0ffee0000000000000000000000000000000002";
    const response = await postGithub(t, { event: "pull_request", payload: merged });
    await settle(t);

    const order = await orderOf(t, seeded.linkedToPr);
    expect(order.status).toBe("failed");
    expect(await statusHistory(t, seeded.linkedToPr)).toEqual(historyBefore);
    const delivery = await deliveryRow(t, response.body.delivery);
    expect(delivery.status).toBe("processed");
    expect(delivery.skipped).toContainEqual(
      expect.stringMatching(new RegExp(`^Work order ${seeded.linkedToPr}: status succeeded not applied: .*failed`)),
    );
  });

  test("a Work-Order marker in a pull request body links it to that order", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const marked = await newWorkOrder(t, sessionId);
    const unmarked = await newWorkOrder(t, sessionId);
    const opened = example<PullRequestOpenedEvent>("pull_request", "opened");
    opened.pull_request.head.ref = "unrelated-branch";
    opened.pull_request.body = `Implements the change.\n\nwork-order:  ${marked}\nWork-Order: not-an-id\nWork-Order: ${"x".repeat(31)}\n`;
    await postGithub(t, { event: "pull_request", payload: opened });
    await settle(t);
    expect(await linksOf(t, marked)).toEqual([
      { kind: "pr", value: PR_2 },
    ]);
    expect(await linksOf(t, unmarked)).toEqual([]);
  });

  test("a Work-Order marker in an issue body links the issue", async () => {
    const t = newBackend();
    const workOrderId = await newWorkOrder(t, await newSession(t, "alice"));
    const opened = example<IssuesOpenedEvent>("issues", "opened");
    opened.issue.body = `Found while working on it.\r\nWork-Order: ${workOrderId}\r\n`;
    await postGithub(t, { event: "issues", payload: opened });
    await settle(t);
    expect(await linksOf(t, workOrderId)).toEqual([
      { kind: "github_issue", value: ISSUE_1 },
    ]);
  });

  test("an issues event about a pull request links it as a pull request", async () => {
    const t = newBackend();
    const workOrderId = await newWorkOrder(t, await newSession(t, "alice"));
    const milestoned = example<IssuesMilestonedEvent>("issues", "milestoned");
    milestoned.issue.body = `Work-Order: ${workOrderId}`;
    await postGithub(t, { event: "issues", payload: milestoned });
    await settle(t);
    expect(await linksOf(t, workOrderId)).toEqual([
      { kind: "pr", value: PR_2 },
    ]);
  });

  test("a push links every commit to the branch's orders, and a marked commit to its marked order only", async () => {
    const t = newBackend();
    const seeded = await seed(t);
    const marked = await newWorkOrder(t, await newSession(t, "bob"));
    const push = example<PushEvent>("push");
    const commit = (id: string, message: string) => ({ ...push.commits[0], id, message });
    push.ref = "refs/heads/master";
    push.commits = [
      commit("1111111111111111111111111111111111111111", "First step"),
      commit("2222222222222222222222222222222222222222", `Second step\n\nWork-Order: ${marked}`),
    ];
    await postGithub(t, { event: "push", payload: push });
    await settle(t);
    const links = async (workOrderId: Id<"work_orders">) => await linksOf(t, workOrderId);
    expect(await links(seeded.onMaster)).toEqual([
      { kind: "commit", value: "1111111111111111111111111111111111111111" },
      { kind: "commit", value: "2222222222222222222222222222222222222222" },
    ]);
    expect(await links(marked)).toEqual([{ kind: "commit", value: "2222222222222222222222222222222222222222" }]);
    expect(await links(seeded.failedOnMaster)).toEqual([]);
    expect(await links(seeded.onChanges)).toEqual([]);
  });

  test("a pull request from a fork matches the fork's repository and branch", async () => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const forked = await newWorkOrder(t, sessionId, { target: { targetRepo: "https://github.com/Contributor/Hello-World", targetBranch: "changes" } });
    const opened = example<PullRequestOpenedEvent>("pull_request", "opened");
    opened.pull_request.head.repo!.full_name = "Contributor/Hello-World";
    await postGithub(t, { event: "pull_request", payload: opened });
    await settle(t);
    expect(await linksOf(t, forked)).toEqual([
      { kind: "pr", value: PR_2 },
    ]);
  });

  test("processing records on the delivery what its transaction cost, and the inbox counts the delivery by source and status", async () => {
    const t = newBackend();
    await seed(t);
    const response = await postGithub(t, { event: "push", payload: example<PushEvent>("push") });
    await settle(t);
    const delivery = await deliveryRow(t, response.body.delivery);
    expect(delivery.cost).toEqual({
      documentsRead: expect.any(Number),
      documentsWritten: expect.any(Number),
      bytesRead: expect.any(Number),
      bytesWritten: expect.any(Number),
    });
    expect(delivery.cost!.documentsRead).toBeGreaterThan(0);
    const inbox = await t.query(internal.ingest.inboxStatus, {});
    expect(inbox.counts).toContainEqual({ source: "github", status: delivery.status, count: 1 });
  });
});
