import { noteInstallation } from "../github/installations";
import { queueReaction } from "../github/outbound";
import { commentAppended, sessionOfThread } from "../github/threads";
import { appendInbound, checkInbound } from "./messageCommands";
import type { Handlers } from "./units";

/*
 * The commands of GitHub comments
 * (docs/contract.md#github-both-ways-the-app-comments-in-replies-and-check-runs-out):
 * a comment for Jangar appended to its thread's session (binding the
 * thread on its first), with its `eyes` reaction queued once it is; and the
 * App installation a delivery came through, noted for its repository. Each
 * command is one unit of work; edits and deletions are messageCommands'.
 */

export const githubCommands: Pick<Handlers, "appendGithubComment" | "noteGithubInstallation"> = {
  appendGithubComment: {
    units: "one",
    apply: async (acting, command) => {
      const message = checkInbound(acting, command.message);
      const bound = message === null ? null : await sessionOfThread(acting.ctx, acting.applied, command);
      if (bound === null || message === null) {
        return;
      }
      if ((await appendInbound(acting, bound.session, command.message.externalId, message)) === null) {
        return;
      }
      if (bound.binding !== null) {
        await commentAppended(acting.ctx, bound.binding);
      }
      const notQueued = command.reaction === undefined ? null : await queueReaction(acting.ctx, command.thread, command.reaction);
      if (notQueued !== null) {
        acting.applied.skip(notQueued);
      }
    },
  },
  noteGithubInstallation: {
    units: "one",
    apply: async ({ ctx, applied }, { repository, installationId }) => {
      const noted = await noteInstallation(ctx, repository, installationId);
      if (noted !== null) {
        applied.touch("github_installations", noted, `${repository} is installation ${installationId}`);
      }
    },
  },
};
