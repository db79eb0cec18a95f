import type { Backend } from "../backend";
import { settle } from "../clock";
import { deliveryRow } from "../inbox/deliveries";
import { postGithub } from "../senders/github";
import type { Target } from "../orders/crowds";

/** A push and a merged pull request on acme/api, delivered by GitHub and processed: the delivery row each leaves. */

export const MAIN: Target = { targetRepo: "acme/api", targetBranch: "main" };
export const PR = "https://github.com/acme/api/pull/12";

export async function push(t: Backend, payload: unknown) {
  const response = await postGithub(t, { event: "push", payload });
  await settle(t);
  return await deliveryRow(t, response.body.delivery);
}

/** A pull request merged into acme/api from feature/sso, whose body is `body`. */
export async function merge(t: Backend, url: string, commit: string, body = "Adds SSO.") {
  const response = await postGithub(t, {
    event: "pull_request",
    payload: {
      action: "closed",
      repository: { full_name: "acme/api" },
      pull_request: { html_url: url, body, merged: true, merge_commit_sha: commit, head: { ref: "feature/sso", repo: { full_name: "acme/api" } } },
    },
  });
  await settle(t);
  return await deliveryRow(t, response.body.delivery);
}
