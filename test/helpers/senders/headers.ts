/** Applies a test's header overrides to a request's headers: a value sets one, null leaves it out. */
export function overrideHeaders(headers: Record<string, string>, overrides: Record<string, string | null> | undefined) {
  for (const [name, value] of Object.entries(overrides ?? {})) {
    if (value === null) {
      delete headers[name];
    } else {
      headers[name] = value;
    }
  }
}
