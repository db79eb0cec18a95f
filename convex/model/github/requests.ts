import { literals } from "convex-helpers/validators";
import { v, type Infer } from "convex/values";
import { vGithubThread } from "../../../src/commands";

/**
 * What a GitHub outbox row asks of GitHub
 * (docs/contract.md#github-both-ways-the-app-comments-in-replies-and-check-runs-out),
 * as the installation it names: the `eyes` reaction on a comment it heard,
 * one part of an assistant's reply, posted as a comment on its thread, or
 * a work order's check run, made or brought up to date (rendered when sent).
 */
export const vGithubRequest = v.union(
  v.object({
    kind: v.literal("reaction"),
    installationId: v.number(),
    repository: v.string(),
    subject: literals("issue_comment", "review_comment", "issue"),
    id: v.number(),
  }),
  v.object({
    kind: v.literal("comment"),
    installationId: v.number(),
    thread: vGithubThread,
    messageId: v.id("chat_messages"),
    part: v.number(),
    parts: v.number(),
    text: v.string(),
  }),
  v.object({
    kind: v.literal("checkRun"),
    installationId: v.number(),
    repository: v.string(),
    workOrderId: v.id("work_orders"),
  }),
);
export type GithubRequest = Infer<typeof vGithubRequest>;

/** An installation is a lane of the outbox: one request at a time, a second apart (GitHub asks that of content it creates). */
export function installationLane(installationId: number): string {
  return `installation:${installationId}`;
}
