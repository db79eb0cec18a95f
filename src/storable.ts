import { utf8Length } from "./text";

/** Convex's longest field name. */
const MAX_FIELD_NAME_CHARS = 1024;

/** Convex limits how deeply values nest; values here stay well inside it. */
export const MAX_VALUE_DEPTH = 32;

/** How deeply arrays and objects nest in a value (a scalar is 0). */
export function nestingDepth(value: unknown): number {
  if (value === null || typeof value !== "object") {
    return 0;
  }
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + children.reduce<number>((deepest, child) => Math.max(deepest, nestingDepth(child)), 0);
}

/**
 * Why a JSON value could not be stored as a Convex value within `maxBytes`,
 * or null when it can: object keys must be printable ASCII and not start
 * with `$` (Convex reserves it); nesting is at most MAX_VALUE_DEPTH deep.
 */
export function storableJsonProblem(value: unknown, maxBytes: number): string | null {
  if (nestingDepth(value) > MAX_VALUE_DEPTH) {
    return `it nests more than ${MAX_VALUE_DEPTH} levels deep.`;
  }
  const badKey = (node: unknown): string | null => {
    if (Array.isArray(node)) {
      for (const item of node) {
        const found = badKey(item);
        if (found !== null) return found;
      }
    } else if (node !== null && typeof node === "object") {
      for (const [key, item] of Object.entries(node)) {
        if (key.startsWith("$") || key.length > MAX_FIELD_NAME_CHARS || !/^[\x20-\x7e]*$/.test(key)) return key;
        const found = badKey(item);
        if (found !== null) return found;
      }
    }
    return null;
  };
  const key = badKey(value);
  if (key !== null) {
    return `field name ${JSON.stringify(key.slice(0, 40))} cannot be stored: names must be printable ASCII, at most ${MAX_FIELD_NAME_CHARS} characters, and not start with "$".`;
  }
  const bytes = utf8Length(JSON.stringify(value));
  return bytes > maxBytes ? `it is ${bytes} bytes as JSON; the limit is ${maxBytes}.` : null;
}
