import type { Id } from "../../_generated/dataModel";
import type { MutationCtx } from "../../_generated/server";
import type { Command, GithubThread } from "../../../src/commands";
import { splitForGithub } from "../../../src/github/requests";
import { numberedParts } from "../../../src/text";
import { enqueue } from "../../outbox/enqueue";
import { githubOutbox } from "../../outbox/registry";
import { githubPostingEnabled } from "../platform/config";
import { installationOf } from "./installations";
import { installationLane } from "./requests";
import { threadOfSession } from "./threads";

/*
 * What the App says on GitHub
 * (docs/contract.md#github-both-ways-the-app-comments-in-replies-and-check-runs-out),
 * queued in the transaction that makes the fact, as its installation: the
 * `eyes` reaction on a comment just appended, and an assistant's reply in a
 * session bound to a GitHub thread. The outbox's GitHub adapter sends them.
 * Without the App's id and key nothing is queued.
 */

type Reaction = NonNullable<Extract<Command, { type: "appendGithubComment" }>["reaction"]>;

/**
 * Queues the `eyes` reaction on a comment just appended (once: a comment is
 * appended once); null when queued or there is nothing to do, else why it
 * cannot be (no installation known for the repository).
 */
export async function queueReaction(ctx: MutationCtx, thread: GithubThread, reaction: Reaction): Promise<string | null> {
  if (!githubPostingEnabled()) {
    return null;
  }
  const installationId = await installationOf(ctx, thread.repository);
  if (installationId === null) {
    return `No eyes reaction on ${thread.repository}#${thread.number}: no delivery from the App has named its installation yet.`;
  }
  await enqueue(ctx, githubOutbox, installationLane(installationId), [
    { request: { kind: "reaction", installationId, repository: thread.repository, subject: reaction.subject, id: reaction.id } },
  ]);
  return null;
}

/**
 * Queues a message of a session bound to a GitHub thread (the thread a
 * comment was last appended from; an assistant's, convex/model/chat/messages.ts)
 * as comments of at most 60,000 characters, in order. A thread whose
 * repository no App delivery has named an installation for gets nothing:
 * the App cannot post there.
 */
export async function queueGithubReply(ctx: MutationCtx, sessionId: Id<"chat_sessions">, messageId: Id<"chat_messages">, content: string) {
  const thread = githubPostingEnabled() ? await threadOfSession(ctx, sessionId) : null;
  const installationId = thread === null ? null : await installationOf(ctx, thread.repository);
  if (thread === null || installationId === null) {
    return;
  }
  await enqueue(
    ctx,
    githubOutbox,
    installationLane(installationId),
    numberedParts(splitForGithub(content)).map((part) => ({ request: { kind: "comment" as const, installationId, thread, messageId, ...part } })),
  );
}
