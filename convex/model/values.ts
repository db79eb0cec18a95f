import { convexToJson, type Value } from "convex/values";
import { accept, reject, type Check } from "../../src/check";
import { MAX_VALUE_DEPTH, nestingDepth } from "../../src/storable";
import { utf8Length } from "../../src/text";

/**
 * A free-form value (an arg's value, a message's metadata) that Convex can
 * store, within `maxBytes` of JSON: field names must be ASCII and not start
 * with `$`, nesting is bounded, and the size limit keeps documents far from
 * Convex's 1 MiB cap.
 */
export function checkStorableValue(
  field: string,
  value: Value,
  maxBytes: number,
): Check<Value> {
  if (nestingDepth(value) > MAX_VALUE_DEPTH) {
    return reject(`${field} nests more than ${MAX_VALUE_DEPTH} levels deep.`);
  }
  let json: string;
  try {
    json = JSON.stringify(convexToJson(value));
  } catch (error) {
    return reject(
      `${field} cannot be stored: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const bytes = utf8Length(json);
  if (bytes > maxBytes) {
    return reject(`${field} is ${bytes} bytes as JSON; the limit is ${maxBytes}.`);
  }
  return accept(value);
}
