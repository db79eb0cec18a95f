import type { Id } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../_generated/server";

/*
 * Which App installation a repository's requests are made as: the one its
 * latest delivery named (docs/contract.md#github-both-ways-the-app-comments-in-replies-and-check-runs-out).
 * A delivery that names the installation already held writes nothing, so
 * a busy repository's deliveries do not all write one document.
 */

async function rowOf(ctx: QueryCtx, repository: string) {
  return await ctx.db
    .query("github_installations")
    .withIndex("by_repository", (q) => q.eq("repository", repository))
    .unique();
}

/** Notes the installation a delivery for `repository` came through: the row written, or null when it already said so. */
export async function noteInstallation(ctx: MutationCtx, repository: string, installationId: number): Promise<Id<"github_installations"> | null> {
  const row = await rowOf(ctx, repository);
  if (row === null) {
    return await ctx.db.insert("github_installations", { repository, installationId });
  }
  if (row.installationId === installationId) {
    return null;
  }
  await ctx.db.patch("github_installations", row._id, { installationId });
  return row._id;
}

/** The installation the App's requests for `repository` are made as, or null when no App delivery named one yet. */
export async function installationOf(ctx: QueryCtx, repository: string): Promise<number | null> {
  return (await rowOf(ctx, repository))?.installationId ?? null;
}
