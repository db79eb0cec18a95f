import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/**
 * convex/'s modules for convex-test outside vitest, which cannot find them
 * itself: every .ts and .js file, keyed by its path (convex-test finds the
 * root by `_generated` and each function by path, without the extension).
 */

export type Modules = Record<string, () => Promise<unknown>>;

const CONVEX_DIR = fileURLToPath(new URL("../../convex", import.meta.url));

export function convexModules(dir = CONVEX_DIR): Modules {
  const modules: Modules = {};
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) {
        walk(path);
      } else if (/\.(ts|js)$/.test(entry.name) && !entry.name.endsWith(".d.ts")) {
        modules[`./convex/${relative(dir, path)}`] = () => import(pathToFileURL(path).href);
      }
    }
  };
  walk(dir);
  return modules;
}

/** What a registered Convex function says of itself. */
export type RegisteredFunction = {
  isQuery?: boolean;
  isMutation?: boolean;
  isAction?: boolean;
  isPublic?: boolean;
  isInternal?: boolean;
};

/**
 * The function a path names (`ingest:inboxStatus`, `inbox/maintenance:recoverLost`,
 * `ingest.js:inboxStatus` as the Convex CLI may spell it), or null when no
 * module exports one by that name.
 */
export async function findFunction(modules: Modules, path: string): Promise<RegisteredFunction | null> {
  const [file, exportName = "default"] = path.split(":");
  const modulePath = file.replace(/\.js$/, "");
  const key = Object.keys(modules).find((candidate) => new RegExp(`(^|/)convex/${escape(modulePath)}\\.(ts|js)$`).test(candidate));
  if (key === undefined || modulePath.startsWith("_generated")) {
    return null;
  }
  const exported = ((await modules[key]()) as Record<string, unknown>)[exportName];
  const registered = exported as RegisteredFunction | undefined;
  return registered && (registered.isQuery || registered.isMutation || registered.isAction) ? registered : null;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
