import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { alertText } from "../../src/alerts";

/* An operator alert's text (docs/operations.md#alerts), whatever the failure it tells of. */

describe("an alert's text", () => {
  test("whatever a sender or another service wrote, it cannot mention, link or break the markup, and stays short", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 2000 }), fc.string({ maxLength: 200 }), (error, event) => {
        const text = alertText({ kind: "deliveryFailed", source: "github", deliveryId: "k57b8fyq3gw2xxfd4qbqtxj8zx7g0gp4", event, error, failed: 2 });
        expect(text).not.toMatch(/[<>]/);
        expect(text.split("\n")).toHaveLength(7);
        expect(text.length).toBeLessThan(1_500);
      }),
    );
  });
});
