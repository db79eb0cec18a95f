import type { IssuesMilestonedEvent, IssuesOpenedEvent, PullRequestClosedEvent, PullRequestOpenedEvent, PushEvent } from "@octokit/webhooks-types";
import { describe, expect, test } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { newBackend } from "../helpers/backend";
import { asService } from "../helpers/callers";
import { postGithub } from "../helpers/senders/github";
import { linksOf, newSession, newWorkOrder, orderOf, statusHistory } from "../helpers/records";
import { withFakeClock, settle } from "../helpers/clock";
import { deliveryRow } from "../helpers/inbox/deliveries";
import { example, ISSUE_1, PR_2, seed } from "../helpers/github/examples";

withFakeClock();

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
