import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { startRequestBody } from "../../src/temporal/client";
import { SLICE_CHARS } from "../../src/temporal/payload";

/*
 * The start request's body (docs/contract.md section 5): its input's base64
 * is made a slice at a time, so that a launch holds two copies of its input
 * at most (test/cost/launchCost.test.ts measures that). Here: it is the request
 * the HTTP API's JSON spells, with Web's own btoa and TextEncoder as the
 * oracle for the payload.
 */

const utf8 = new TextEncoder();

/** The base64 of the text's UTF-8, the way the oracle makes it. */
function oracleBase64(text: string): string {
  let binary = "";
  for (const byte of utf8.encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

const FIELDS = {
  namespace: "jangar-prod",
  identity: "jangar-persistence",
  workflowId: "k57e8cnb9w1sd2zx1vqm5e3c1h7n0p9a",
  workflowType: { name: "codex-implement" },
  taskQueue: { name: "codex-agents" },
  requestId: "launch-k57e8cnb9w1sd2zx1vqm5e3c1h7n0p9a",
};

function payloadOf(body: string) {
  const parsed = JSON.parse(body) as typeof FIELDS & { input: { payloads: { metadata: { encoding: string }; data: string }[] } };
  const { input, ...fields } = parsed;
  expect(fields).toEqual(FIELDS);
  expect(input.payloads).toHaveLength(1);
  expect(atob(input.payloads[0].metadata.encoding)).toBe("json/plain");
  return input.payloads[0].data;
}

/** Any UTF-16 code units, lone halves of surrogate pairs included (TextEncoder makes each a U+FFFD). */
const codeUnits = fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 200 }).map((codes) => String.fromCharCode(...codes));

describe("the start request's body", () => {
  test("for any input text, the payload's data is the base64 of its UTF-8, and the other fields are the request's", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "grapheme", maxLength: 200 }), codeUnits, fc.string({ maxLength: 200 })), (text) => {
        expect(payloadOf(startRequestBody(FIELDS, text))).toBe(oracleBase64(text));
      }),
      { numRuns: 300 },
    );
  });

  // Slices of the text are encoded one at a time: around their boundaries every remainder of 3 bytes, and a pair split across two slices.
  const pair = "\u{1F680}";
  test.each([
    ["one slice exactly", "a".repeat(SLICE_CHARS)],
    ["one character past a slice", "a".repeat(SLICE_CHARS + 1)],
    ["two past", "a".repeat(SLICE_CHARS + 2)],
    ["a surrogate pair across the slices' boundary", `${"a".repeat(SLICE_CHARS - 1)}${pair}${"b".repeat(5)}`],
    ["two- and three-byte characters over three slices", "é€".repeat(SLICE_CHARS + 7)],
    ["a lone surrogate at a slice's end", `${"a".repeat(SLICE_CHARS - 1)}\ud800b`],
    ["empty", ""],
  ])("%s: the payload is the oracle's", (_case, text) => {
    expect(payloadOf(startRequestBody(FIELDS, text))).toBe(oracleBase64(text));
  });
});
