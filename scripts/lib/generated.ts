import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * convex/_generated as files and contents. `convex dev` and `convex deploy`
 * rewrite it in the form their deployment calls for; the repository commits
 * the offline form (`npm run codegen`), so the tools that run the Convex CLI
 * put it back as it was when they are done.
 */

export const GENERATED_DIR = "convex/_generated";

export type Snapshot = ReadonlyMap<string, string>;

export function snapshot(dir = GENERATED_DIR): Snapshot {
  if (!existsSync(dir)) {
    return new Map();
  }
  return new Map(
    readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => [entry.name, readFileSync(join(dir, entry.name), "utf8")]),
  );
}

/** The files that differ between two snapshots: changed, added or removed. */
export function changedFiles(before: Snapshot, after: Snapshot): string[] {
  return [...new Set([...before.keys(), ...after.keys()])].filter((file) => before.get(file) !== after.get(file)).sort();
}

/** Writes `dir` back to `saved`; returns the files it had to restore. */
export function restore(saved: Snapshot, dir = GENERATED_DIR): string[] {
  const changed = changedFiles(saved, snapshot(dir));
  mkdirSync(dir, { recursive: true });
  for (const file of changed) {
    const content = saved.get(file);
    if (content === undefined) {
      rmSync(join(dir, file), { force: true });
    } else {
      writeFileSync(join(dir, file), content);
    }
  }
  return changed;
}

/** Whether api.js is in the form a deployment's codegen writes (it exports `components`), not the offline one. */
export function inDeploymentForm(files: Snapshot): boolean {
  return /\bcomponentsGeneric\b/.test(files.get("api.js") ?? "");
}
