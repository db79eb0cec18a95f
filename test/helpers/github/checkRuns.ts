import { api } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import type { Backend } from "../backend";
import { asService } from "../callers";
import { OUTBOX_ITERATIONS, settle } from "../clock";
import { TEST_APP_ID } from "./app";
import { examplesOf, type Payload } from "./examples";
import { newSession, newWorkOrder } from "../records";
import { postGithub } from "../senders/github";

/*
 * A work order on the examples' pull request through the App, and GitHub's
 * own `pull_request` and `check_run` payloads (@octokit/webhooks-examples)
 * about it, for the check run tests.
 */

export const TARGET = { targetRepo: "codertocat/hello-world", targetBranch: "changes" };
export const HEAD = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"; // the examples' head commit
export const CANCEL = { label: "Cancel", description: "Stop this work order", identifier: "cancel" };
export const RETRY = { label: "Retry", description: "Run this work order again", identifier: "retry" };

/** Posts a GitHub delivery and lets everything it scheduled run. */
export async function post(t: Backend, event: string, payload: Payload, guid?: string) {
  const response = await postGithub(t, { event, payload, guid });
  await settle(t, OUTBOX_ITERATIONS);
  return response;
}

/** GitHub's `pull_request` through the App (the examples' PR #2 on Codertocat/Hello-World, branch `changes`), on `head`. */
export function pullRequest(action: "opened" | "synchronize", head = HEAD): Payload {
  const payload = examplesOf("pull_request", action).find((example) => example.installation)!;
  payload.pull_request.head.sha = head;
  return payload;
}

/** GitHub's `check_run` `requested_action` (or `rerequested`) on the App's check run of an order. */
export function checkRunEvent(action: "requested_action" | "rerequested", workOrderId: string, identifier?: string, appId: number = TEST_APP_ID): Payload {
  const payload = examplesOf("check_run", action)[0];
  payload.check_run.external_id = workOrderId;
  payload.check_run.app.id = appId;
  if (identifier !== undefined) {
    payload.requested_action = { identifier };
  }
  return payload;
}

/** Alice's order on the examples' branch, its pull request opened through the App (its check run made). */
export async function orderOnPullRequest(t: Backend, title = "SSO login") {
  const sessionId = await newSession(t, "user:alice");
  const workOrderId = await newWorkOrder(t, sessionId, { target: TARGET, title });
  await post(t, "pull_request", pullRequest("opened"));
  return workOrderId;
}

export async function setStatus(t: Backend, workOrderId: Id<"work_orders">, status: string, reason?: string) {
  await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status, reason });
  await settle(t, OUTBOX_ITERATIONS);
}
