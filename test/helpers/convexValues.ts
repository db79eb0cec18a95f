/** Values at Convex's limits of nesting and width, to store or send. */

/** A value `levels` objects deep (Convex's nesting: `{ in: 1 }` is 1). */
export function nestedObjects(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i += 1) value = { in: value };
  return value;
}

/** A value `levels` arrays deep, built as JSON text so that no JavaScript recursion is needed to send it. */
export function nestedArraysJson(levels: number): string {
  return `${"[".repeat(levels)}"bottom"${"]".repeat(levels)}`;
}

/** An object of `fields` number fields, `f0` to `f<fields - 1>`. */
export function objectOfFields(fields: number): Record<string, number> {
  return Object.fromEntries(Array.from({ length: fields }, (_, i) => [`f${i}`, i]));
}
