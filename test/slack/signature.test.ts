import { describe, expect, test } from "vitest";
import { signSlackRequest, verifySlackSignature } from "../../src/sources/slack/signature";

/*
 * Slack's request signature (X-Slack-Signature v0), against the example
 * Slack publishes: what POST /webhooks/slack checks before anything else.
 */

const utf8 = new TextEncoder();

describe("Slack's signature (X-Slack-Signature v0)", () => {
  // https://api.slack.com/authentication/verifying-requests-from-slack
  const secret = "8f742231b10e8888abcd99yyyzzz85a5";
  const timestamp = "1531420618";
  const body = utf8.encode(
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c",
  );
  const signature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

  test("signing Slack's published request gives Slack's published signature", async () => {
    expect(await signSlackRequest(secret, timestamp, body)).toBe(signature);
  });

  test("the published signature verifies, and a one-byte change of body, timestamp, signature or secret does not", async () => {
    expect(await verifySlackSignature(secret, timestamp, body, signature)).toBe(true);
    const changedBody = body.slice();
    changedBody[changedBody.length - 1] ^= 0x01;
    expect(await verifySlackSignature(secret, timestamp, changedBody, signature)).toBe(false);
    expect(await verifySlackSignature(secret, "1531420619", body, signature)).toBe(false);
    expect(await verifySlackSignature(secret, timestamp, body, `${signature.slice(0, -1)}2`)).toBe(false);
    expect(await verifySlackSignature(`${secret.slice(0, -1)}6`, timestamp, body, signature)).toBe(false);
  });

  test.each([
    ["the bare hex without v0=", signature.slice("v0=".length)],
    ["a v1= signature", `v1=${signature.slice("v0=".length)}`],
    ["truncated hex", signature.slice(0, -2)],
    ["hex with a byte too many", `${signature}00`],
    ["non-hex digits", `v0=${"zz".repeat(32)}`],
    ["the prefix alone", "v0="],
    ["an empty header", ""],
    ["two signatures joined with a comma", `${signature},${signature}`],
  ])("a malformed signature (%s) is false, without throwing", async (_form, malformed) => {
    await expect(verifySlackSignature(secret, timestamp, body, malformed)).resolves.toBe(false);
  });
});
