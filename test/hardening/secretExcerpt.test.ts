import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { excerpt } from "../../src/secrets";
import { isWellFormed, truncate } from "../../src/text";
import { expectNoPiece, piecesOf } from "../helpers/assertions";

/*
 * No secret, nor any 8-character piece of one, in a stored row or a log line,
 * whatever another service answers (docs/contract.md, hardening rules): the
 * helper every outbound client cuts answers with. echoedSecrets.test.ts holds
 * the real paths where an answer is kept.
 */

const alphabet = (chars: string) => fc.constantFrom(...chars);
const ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const BASE64 = `${ALNUM}+/`;
const fromChars = (chars: string, minLength: number, maxLength: number) =>
  fc.string({ unit: alphabet(chars), minLength, maxLength });

/** Secrets of the shapes this service holds: a Slack bot token, a Temporal API key, an App's PEM key, an events secret, and any text. */
const secretArbitrary = fc.oneof(
  fc
    .tuple(fromChars("0123456789", 10, 13), fromChars("0123456789", 10, 13), fromChars(ALNUM, 24, 24))
    .map(([team, bot, rest]) => `xoxb-${team}-${bot}-${rest}`),
  fromChars(`${ALNUM}._-`, 20, 120),
  fc.array(fromChars(BASE64, 64, 64), { minLength: 2, maxLength: 6 }).map(
    (lines) => `-----BEGIN RSA PRIVATE KEY-----\n${lines.join("\n")}\n-----END RSA PRIVATE KEY-----\n`,
  ),
  fromChars(BASE64, 32, 44).map((key) => `whsec_${key}`),
  fc.string({ minLength: 1, maxLength: 60, unit: "grapheme" }),
  fc.string({ minLength: 1, maxLength: 60 }),
);

/** The ways an answer carries a secret: whole, a piece of it, behind `Bearer `, in JSON, or not at all. */
function carried(secret: string) {
  return fc.oneof(
    fc.constant(secret),
    fc.constant(`Authorization: Bearer ${secret}`),
    fc.constant(JSON.stringify({ error: `invalid_auth ${secret}` })),
    fc
      .tuple(fc.nat({ max: secret.length }), fc.nat({ max: secret.length }))
      .map(([a, b]) => secret.slice(Math.min(a, b), Math.max(a, b))),
    fc.string({ maxLength: 40, unit: "grapheme" }),
    fc.string({ maxLength: 40 }),
  );
}

describe("excerpt: what a client keeps of an answer", () => {
  test("wherever an answer holds a secret, and wherever it is cut, no 8-character piece of the secret is kept", () => {
    fc.assert(
      fc.property(
        secretArbitrary.chain((secret) =>
          fc.record({
            secret: fc.constant(secret),
            parts: fc.array(carried(secret), { maxLength: 6 }),
            maxChars: fc.integer({ min: 1, max: 400 }),
          }),
        ),
        ({ secret, parts, maxChars }) => {
          const answer = parts.join("");
          const kept = excerpt(answer, maxChars, { SECRET: secret });
          expectNoPiece(kept, secret);
          expect(kept.length).toBeLessThanOrEqual(maxChars);
          if (isWellFormed(answer)) expect(isWellFormed(kept)).toBe(true);
        },
      ),
      { numRuns: 400 },
    );
  });

  test("an answer holding no piece of a secret is kept as any cut keeps it", () => {
    fc.assert(
      fc.property(secretArbitrary, fc.string({ maxLength: 300, unit: "grapheme" }), fc.integer({ min: 1, max: 400 }), (secret, answer, maxChars) => {
        fc.pre(piecesOf(secret).every((piece) => !answer.includes(piece)));
        expect(excerpt(answer, maxChars, { SECRET: secret, UNSET: undefined, BLANK: "" })).toBe(truncate(answer, maxChars));
      }),
      { numRuns: 200 },
    );
  });

  test("several secrets are masked at once, each run of pieces standing as its secret's name", () => {
    const token = "xoxb-918273645012-5647382910564-Zq8wLr2VbN4kTy7uXe1sHdPj";
    const key = "tmprl_9f8e7d6c5b4a39281706f5e4d3c2b1a0";
    const kept = excerpt(`<p>Bearer ${token}</p><p>${key.slice(3, 20)}</p>`, 200, { SLACK_BOT_TOKEN: token, TEMPORAL_API_KEY: key });
    expect(kept).toBe("<p>Bearer [SLACK_BOT_TOKEN]</p><p>[TEMPORAL_API_KEY]</p>");
  });
});
