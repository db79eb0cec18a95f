import { api } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import { fixture } from "./settings";
import { untilOutboxIsSent, type DemoBackend, type Timeline } from "./timeline";

/**
 * The journey's GitHub part: a reviewer asks the GitHub App on the pull
 * request, and Jangar's server answers; the answer is posted there as a
 * comment, and in Alice's thread.
 */
export async function githubComment(t: DemoBackend, service: ReturnType<DemoBackend["withIdentity"]>, { step, deliver }: Timeline, sessionId: Id<"chat_sessions">) {
  const asked = fixture("github/07-pull_request_review_comment-mentions-app.json");
  await step("GitHub", "POST /webhooks/github", `a review comment on pull request #2 through the App: "${(asked.payload.comment as { body: string }).body}"`, () =>
    deliver(asked),
  );

  await step(
    "Jangar's server",
    "chatMessages:append (as a service, role assistant)",
    "the answer: posted as a comment on the pull request, and in Alice's thread",
    async () => {
      const messageId = await service.mutation(api.chatMessages.append, {
        sessionId,
        role: "assistant",
        content: "Done: the README uses the :tada: shortcode now.",
      });
      await untilOutboxIsSent(t);
      return `${messageId}`;
    },
    { settle: false },
  );
}
