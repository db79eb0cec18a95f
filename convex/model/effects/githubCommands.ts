import { noteHead } from "../github/checkRuns";
import { noteInstallation } from "../github/installations";
import { budget } from "../platform/budget";
import { orderOf, ordersOf } from "./selectors";
import { queueReaction } from "../github/outbound";
import { commentAppended, sessionOfThread } from "../github/threads";
import { appendInbound, checkInbound } from "./messageCommands";
import { unit, type Handlers } from "./units";

/*
 * The commands of GitHub comments
 * (docs/contract.md#github-both-ways-the-app-comments-in-replies-and-check-runs-out):
 * a comment for Jangar appended to its thread's session (binding the
 * thread on its first), with its `eyes` reaction queued once it is; and the
 * App installation a delivery came through, noted for its repository; and
 * the head commit of a pull request, on which the orders it reaches get
 * their check run. Each command is one unit of work (a head: one per order
 * it reaches); edits and deletions are messageCommands'.
 */

// A head noted on one order: its check run row read and written, its latest outbox row read, the installation read, one row queued and its lane.
const HEAD_COST = budget({ bytesRead: 16 * 1024, bytesWritten: 16 * 1024, documentsRead: 8, documentsWritten: 6, databaseQueries: 8 });

export const githubCommands: Pick<Handlers, "appendGithubComment" | "noteGithubInstallation" | "noteGithubHead"> = {
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
  noteGithubHead: {
    units: "perOrder",
    apply: async (run, { workOrders, repository, number, headSha }) => {
      for (const workOrderId of ordersOf(run.found, workOrders)) {
        const order = (await unit(run, HEAD_COST)) ? await orderOf(run.ctx, run.found, workOrderId) : null;
        const noted = order === null ? null : await noteHead(run.ctx, order, { repository, number, headSha });
        if (noted !== null) {
          run.applied.touch("github_check_runs", noted, `check run of ${workOrderId} on ${repository}@${headSha.slice(0, 12)}`);
        }
      }
    },
  },
};
