// @vitest-environment node
import { afterEach, beforeEach, expect, test, vi } from "vitest";
import { ROUND_TRIP_SETTINGS, slackRoundTrip } from "../../scripts/lib/slackRoundTrip";
import { newBackend } from "../helpers/backend";

/*
 * `npx tsx scripts/fake-slack.ts`: the round trip a person sees in Slack,
 * over real loopback HTTP to the fake Web API, on the suite's backend.
 */

beforeEach(() => {
  for (const [name, value] of Object.entries(ROUND_TRIP_SETTINGS)) {
    vi.stubEnv(name, value);
  }
});
afterEach(() => {
  vi.unstubAllEnvs();
});

test("a mention, the assistant's reply in the thread, its echo ignored, and the order's card edited in place to succeeded", async () => {
  const lines: string[] = [];
  const result = await slackRoundTrip(newBackend(), (line) => lines.push(line));
  expect(result.violations).toEqual([]);
  expect(result.thread.map(({ text }) => text)).toEqual([
    "Build 4812 changed the auth middleware; starting a fix.",
    "Work order Fix login 500: succeeded · PR <https://github.com/acme/api/pull/12|acme/api#12>",
  ]);
  expect(result.thread[1].edits).toBeGreaterThanOrEqual(2);
  expect(result.sessionMessages).toEqual([
    "user: <@U0JANGAR> the login page 500s, can you look?",
    "assistant: Build 4812 changed the auth middleware; starting a fix.",
  ]);
  expect(lines.some((line) => line.startsWith("Slack echoes the bot's post back: POST /webhooks/slack -> 200"))).toBe(true);
}, 60_000);
