import examples from "@octokit/webhooks-examples";
import { api } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import type { Backend } from "../backend";
import { asService } from "../callers";
import { newSession, newWorkOrder } from "../records";

/*
 * GitHub's published example payloads (@octokit/webhooks-examples), and work
 * orders seeded around the repository they are about.
 */

const HELLO_WORLD = "https://github.com/codertocat/hello-world";
export const ISSUE_1 = `${HELLO_WORLD}/issues/1`;
export const PR_2 = `${HELLO_WORLD}/pull/2`;

/** An example payload, to edit as a test needs. */
export type Payload = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Every example, with the event it is of. */
export type Example = { name: string; payload: Record<string, unknown> & { action?: string; ref?: string; deleted?: boolean } };
export const corpus: Example[] = examples.flatMap((definition) =>
  definition.examples.map((payload) => ({ name: definition.name, payload: payload as Example["payload"] })),
);

const isOf = (name: string, action?: string) => (e: Example) => e.name === name && (action === undefined || e.payload.action === action);

/** The examples GitHub publishes of an event and action, as fresh objects to edit. */
export function examplesOf(name: string, action?: string): Payload[] {
  return corpus.filter(isOf(name, action)).map((e) => structuredClone(e.payload));
}

/** The first example of an event (and action) that `matches` accepts, as a fresh object to edit; throws naming them when there is none. */
export function example<P = Payload>(name: string, action?: string, matches?: (payload: Example["payload"]) => boolean): P {
  const found = corpus.find((e) => isOf(name, action)(e) && (matches === undefined || matches(e.payload)));
  if (found === undefined) {
    const which = `${name}${action === undefined ? "" : ` with action "${action}"`}${matches === undefined ? "" : " matching the test's choice"}`;
    throw new Error(`@octokit/webhooks-examples has no ${which} example.`);
  }
  return structuredClone(found.payload) as P;
}

export type Seeded = Record<"onMaster" | "onChanges" | "linkedToIssue" | "linkedToPr" | "failedOnMaster" | "elsewhere", Id<"work_orders">>;

/**
 * Work orders around the examples' repository (Codertocat/Hello-World):
 * targets on the push branch and the pull request's head branch, orders
 * already linked to issue #1 and pull request #2, a failed order on the push
 * branch (rule 1 must pass it by), and one unrelated order.
 */
export async function seed(t: Backend): Promise<Seeded> {
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
