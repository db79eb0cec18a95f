import { spawnSync } from "node:child_process";
import { changedFiles, GENERATED_DIR, inDeploymentForm, type Snapshot } from "./generated";

/**
 * `npm run check:codegen`: regenerates convex/_generated offline and says
 * what a difference means: the committed files are stale for the sources, or
 * only the working copy had been changed (by a `convex dev` or `convex
 * deploy` that did not put it back).
 */

export const OFFLINE_CODEGEN = ["convex", "codegen", "--system-udfs", "--init", "--typecheck", "disable"];

/** convex/_generated as the last commit has it, or null outside a git checkout. */
export function committedSnapshot(dir = GENERATED_DIR, cwd = "."): Snapshot | null {
  const git = (args: string[]) => spawnSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  const listed = git(["ls-tree", "--name-only", "HEAD", `${dir}/`]);
  if (listed.status !== 0) {
    return null;
  }
  const files = new Map<string, string>();
  for (const path of listed.stdout.split("\n").filter(Boolean)) {
    const shown = git(["show", `HEAD:${path}`]);
    if (shown.status !== 0) {
      return null;
    }
    files.set(path.slice(dir.length + 1), shown.stdout);
  }
  return files;
}

export type Verdict = { ok: boolean; lines: string[] };

/**
 * `before`: the files on disk; `after`: what the offline codegen made of the
 * sources; `committed`: the last commit's files (null without git).
 */
export function judgeCodegen(before: Snapshot, after: Snapshot, committed: Snapshot | null, dir = GENERATED_DIR): Verdict {
  const changed = changedFiles(before, after);
  if (changed.length === 0) {
    return { ok: true, lines: [`check:codegen: ${dir} is up to date.`] };
  }
  const list = changed.map((file) => `${dir}/${file}`).join(", ");
  const cause = inDeploymentForm(before)
    ? `${list} had been rewritten in the form \`convex dev\` or \`convex deploy\` write for a deployment (a run that did not finish, or \`npx convex dev\` / \`npx convex deploy\` run directly)`
    : `${list} had been changed since the last commit`;
  if (committed !== null && changedFiles(committed, after).length === 0) {
    return {
      ok: true,
      lines: [`check:codegen: ${cause}; it is back in the committed form now, and the committed files are up to date: nothing to commit.`],
    };
  }
  const stale = committed !== null && changedFiles(committed, before).length === 0;
  return {
    ok: false,
    lines: [
      stale
        ? `check:codegen: the committed ${dir} does not match convex/ (${list}): a module or function was added, removed or renamed without running npm run codegen.`
        : `check:codegen: ${cause}, and convex/ now needs a different ${dir} than the one committed.`,
      committed === null
        ? `It has been regenerated as npm run codegen does; run npm run check:codegen again.`
        : `It has been regenerated as npm run codegen does: review it (git diff ${dir}) and commit it with the change to convex/ that needs it.`,
    ],
  };
}
