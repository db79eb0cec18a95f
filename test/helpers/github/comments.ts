import { api } from "../../../convex/_generated/api";
import type { Backend } from "../backend";
import { asService } from "../callers";
import { settle } from "../clock";
import { FIRST_PAGE } from "../records";
import { postGithub } from "../senders/github";
import { examplesOf, type Payload } from "./examples";

/*
 * GitHub's own example payloads (@octokit/webhooks-examples) of the comment
 * events, to edit: where each keeps its text, its author and the thread it
 * is on, and the example with a mention of the App written in; and what
 * posting them leaves: sessions and bound threads.
 */

export const ASK = "@jangar please fix the spelling in the README.";

/** Where each event keeps the text, the author and the thread it is on; `id` is the kind in the message's origin. */
export const KINDS = {
  issue_comment: { actions: ["created"], text: (p: Payload) => p.comment, on: (p: Payload) => p.issue, id: "comment" },
  pull_request_review_comment: { actions: ["created"], text: (p: Payload) => p.comment, on: (p: Payload) => p.pull_request, id: "review_comment" },
  pull_request_review: { actions: ["submitted"], text: (p: Payload) => p.review, on: (p: Payload) => p.pull_request, id: "review" },
  issues: { actions: ["opened"], text: (p: Payload) => p.issue, on: (p: Payload) => p.issue, id: "issue" },
} as const;
export type Kind = keyof typeof KINDS;

/** The first example of an event and action (the first that came through the App, with `installation`, if asked), its text replaced: the App mentioned, by default. */
export function commentOf(event: Kind, action: string = KINDS[event].actions[0], text: string = ASK, { viaApp = false } = {}): Payload {
  const all = examplesOf(event, action);
  const payload = (viaApp ? all.find((example) => example.installation) : undefined) ?? all[0];
  KINDS[event].text(payload).body = text;
  return payload;
}

/** A comment on acme/api#30 by a member, through the App (installation 42), reduced to what is read: the benches' comment. */
export function issueCommentOnAcme(id: number, body = "@jangar please look at this.") {
  return {
    action: "created",
    repository: { full_name: "Acme/API" },
    issue: { number: 30, title: "SSO fails on Safari", html_url: "https://github.com/Acme/API/issues/30" },
    comment: {
      id,
      html_url: `https://github.com/Acme/API/issues/30#issuecomment-${id}`,
      body,
      user: { login: "alice", type: "User" },
      author_association: "MEMBER",
      updated_at: "2026-01-05T10:00:00Z",
    },
    installation: { id: 42 },
  };
}

/** Posts a GitHub delivery and lets everything it scheduled run. */
export async function post(t: Backend, event: string, payload: Payload, delivery: { hookId?: string; guid?: string } = {}) {
  const response = await postGithub(t, { event, payload, ...delivery });
  await settle(t);
  return response;
}

/** The chat sessions of a user, as Jangar's server lists them. */
export async function sessionsOf(t: Backend, userId: string) {
  return (await asService(t).query(api.chatSessions.list, { userId, paginationOpts: FIRST_PAGE })).page;
}

/** Every GitHub thread bound to a session. */
export async function threads(t: Backend) {
  return (await t.run(async (ctx) => await ctx.db.query("github_threads").collect())).map(({ repository, number, sessionId }) => ({ repository, number, sessionId }));
}
