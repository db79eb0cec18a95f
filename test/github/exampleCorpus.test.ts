import { describe, expect, test } from "vitest";
import { GITHUB_EVENTS } from "../../src/sources/github/events";
import { newBackend, type Backend } from "../helpers/backend";
import { postGithub } from "../helpers/senders/github";
import { orderOf, statusHistory } from "../helpers/records";
import { withFakeClock, settle } from "../helpers/clock";
import { deliveryRow } from "../helpers/inbox/deliveries";
import { corpus, type Example, PR_2, seed, type Seeded } from "../helpers/github/examples";

withFakeClock();

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
  // Comments are read only with GITHUB_APP_SLUG set, unset here (test/github/commentMessages.test.ts reads them).
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
