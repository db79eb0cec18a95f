import type { z } from "zod";

/** Zod's issues in one line a sender can act on: `path: message; ...`, paths under `root`. */
export function summarizeIssues(error: z.ZodError, root?: string, limit = 5): string {
  const lines = error.issues
    .slice(0, limit)
    .map((issue) => {
      const path = [...(root === undefined ? [] : [root]), ...issue.path.map(String)];
      return `${path.length > 0 ? path.join(".") : "(body)"}: ${issue.message}`;
    });
  const more = error.issues.length - lines.length;
  return lines.join("; ") + (more > 0 ? `; and ${more} more` : "");
}
