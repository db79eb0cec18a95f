// convex/values is Convex's value encoding, not its runtime: the form a stored value takes.
import { convexToJson, type Value } from "convex/values";
import { accept, reject, type Check } from "./check";
import { CONVEX_LIMITS } from "./limits";
import { isWellFormed, utf8Length } from "./text";

/**
 * How deeply a value stored as a top-level field of a document may nest:
 * Convex counts the document itself as one of its 16 levels.
 */
export const FIELD_VALUE_NESTING = CONVEX_LIMITS.documentNesting - 1;

// A node met on the walk, with how to name it should it be refused.
type Visit = { node: object; level: number; parent: Visit | null; key: string | number };

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `metadata.author.names[2]`: where a node sits, shortened to fit in a message. */
function pathOf(field: string, visit: Visit): string {
  const keys: (string | number)[] = [];
  for (let at: Visit | null = visit; at?.parent; at = at.parent) keys.push(at.key);
  const path = keys
    .reverse()
    .map((key) =>
      typeof key === "number" ? `[${key}]` : IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key.slice(0, 40))}]`,
    )
    .join("");
  return `${field}${path.length > 120 ? `${path.slice(0, 119)}…` : path}`;
}

/** A field name Convex stores, or why it does not. */
function checkFieldName(key: string): Check<string> {
  if (key.startsWith("$")) return reject('it starts with "$", which Convex reserves');
  if (key.length > CONVEX_LIMITS.fieldNameChars) return reject(`it is longer than ${CONVEX_LIMITS.fieldNameChars} characters`);
  if (!/^[\x20-\x7e]*$/.test(key)) return reject("it has a character that is not printable ASCII");
  return accept(key);
}

/**
 * The shape Convex can store, walked without recursion (a sender's JSON may
 * nest 200,000 deep) and stopped at the first node past a limit. A string
 * holding half of a surrogate pair is refused where it is met: Convex keeps
 * strings as UTF-8, which cannot hold one.
 */
function checkShape(field: string, value: unknown): Check<Value> {
  const pending: Visit[] = [];
  // Objects and arrays wait on `pending`; a string is checked where it is met.
  const visitChild = (parent: Visit | null, key: string | number, child: unknown): string | null => {
    if (typeof child === "string") {
      const at = parent === null ? field : pathOf(field, { node: {}, level: parent.level + 1, parent, key });
      return isWellFormed(child) ? null : `${at} is not well-formed Unicode (it has half of a surrogate pair).`;
    }
    if (child !== null && typeof child === "object" && !(child instanceof ArrayBuffer)) {
      pending.push({ node: child, level: (parent?.level ?? 0) + 1, parent, key });
    }
    return null;
  };
  const atRoot = visitChild(null, "", value);
  if (atRoot !== null) {
    return reject(atRoot);
  }
  while (pending.length > 0) {
    const visit = pending.pop()!;
    if (visit.level > FIELD_VALUE_NESTING) {
      return reject(
        `${field} nests more than ${FIELD_VALUE_NESTING} levels deep (at ${pathOf(field, visit)}); a Convex document nests at most ${CONVEX_LIMITS.documentNesting}, itself included.`,
      );
    }
    if (Array.isArray(visit.node)) {
      if (visit.node.length > CONVEX_LIMITS.arrayElements) {
        return reject(`${pathOf(field, visit)} has ${visit.node.length} elements; an array holds at most ${CONVEX_LIMITS.arrayElements}.`);
      }
      for (const [index, child] of (visit.node as unknown[]).entries()) {
        const problem = visitChild(visit, index, child);
        if (problem !== null) {
          return reject(problem);
        }
      }
      continue;
    }
    const entries = Object.entries(visit.node).filter(([, child]) => child !== undefined);
    if (entries.length > CONVEX_LIMITS.objectFields) {
      return reject(`${pathOf(field, visit)} has ${entries.length} fields; an object holds at most ${CONVEX_LIMITS.objectFields}.`);
    }
    for (const [key, child] of entries) {
      const name = checkFieldName(key);
      if (!name.ok) {
        return reject(`${pathOf(field, visit)} has a field name Convex cannot store, ${JSON.stringify(key.slice(0, 40))}: ${name.message}.`);
      }
      const childProblem = visitChild(visit, key, child);
      if (childProblem !== null) {
        return reject(childProblem);
      }
    }
  }
  return accept(value as Value);
}

/**
 * A free-form value (a message's metadata, an arg's value) that Convex can
 * store as a top-level field of a document, within `maxBytes` of JSON:
 * nested at most FIELD_VALUE_NESTING deep, objects and arrays within
 * Convex's widths, field names Convex accepts, strings of well-formed
 * Unicode. The JSON size keeps the
 * document far from Convex's 1 MiB.
 */
export function checkStorableField(field: string, value: unknown, maxBytes: number): Check<Value> {
  const shape = checkShape(field, value);
  if (!shape.ok) {
    return shape;
  }
  let json: string;
  try {
    // Bounded by the walk above: convexToJson and JSON.stringify recurse.
    json = JSON.stringify(convexToJson(shape.value));
  } catch (error) {
    return reject(`${field} cannot be stored: ${error instanceof Error ? error.message : String(error)}`);
  }
  const bytes = utf8Length(json);
  return bytes > maxBytes ? reject(`${field} is ${bytes} bytes as JSON; the limit is ${maxBytes}.`) : shape;
}
