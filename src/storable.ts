import { utf8Length } from "./text";

/**
 * Why a JSON value could not be stored as a Convex value within `maxBytes`,
 * or null when it can: object keys must be printable ASCII and not start
 * with `$` (Convex reserves it).
 */
export function storableJsonProblem(value: unknown, maxBytes: number): string | null {
  const badKey = (node: unknown): string | null => {
    if (Array.isArray(node)) {
      for (const item of node) {
        const found = badKey(item);
        if (found !== null) return found;
      }
    } else if (node !== null && typeof node === "object") {
      for (const [key, item] of Object.entries(node)) {
        if (key.startsWith("$") || !/^[\x20-\x7e]*$/.test(key)) return key;
        const found = badKey(item);
        if (found !== null) return found;
      }
    }
    return null;
  };
  const key = badKey(value);
  if (key !== null) {
    return `field name ${JSON.stringify(key)} cannot be stored: names must be printable ASCII and not start with "$".`;
  }
  const bytes = utf8Length(JSON.stringify(value));
  return bytes > maxBytes ? `it is ${bytes} bytes as JSON; the limit is ${maxBytes}.` : null;
}
