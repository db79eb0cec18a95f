import { beforeEach, describe, expect, test, vi } from "vitest";
import aliceMentionsBot from "../../fixtures/slack/01-alice-mentions-bot.json";
import { newBackend } from "../helpers/backend";
import { withFakeClock, settle } from "../helpers/clock";
import { messagesOf } from "../helpers/records";
import { ALICE, BOT_USER, accepted, configureSlackApp, postSlackEvent, slackSessionsOf, type SlackEnvelope } from "../helpers/senders/slack";

/*
 * The title of the session a mention in Slack opens, as Jangar's server
 * lists it: taken from the mention's text, without the bot's mention, cut
 * to 80 characters.
 */

withFakeClock({ now: new Date("2025-05-14T09:00:00Z") });
beforeEach(() => {
  configureSlackApp();
});

/** A copy of Alice's mention with another text (and, so as not to be a duplicate, another event id and ts). */
function mentionSaying(text: string, n: number): SlackEnvelope {
  const envelope = structuredClone(aliceMentionsBot);
  const ts = `${aliceMentionsBot.event_time + n}.000100`;
  envelope.event_id = `Ev08TITLE${String(n).padStart(3, "0")}`;
  envelope.event_time += n;
  Object.assign(envelope.event, { text, ts, event_ts: ts });
  return envelope;
}

describe("POST /webhooks/slack: session titles", () => {
  test("a mention that is only the bot's mention gets a non-empty title", async () => {
    const t = newBackend();
    expect(await postSlackEvent(t, mentionSaying(`<@${BOT_USER}>`, 1))).toEqual(accepted);
    await settle(t);
    const [session] = await slackSessionsOf(t, ALICE);
    expect(session.title.trim()).not.toBe("");
    expect(session.title).not.toContain(BOT_USER);
    expect((await messagesOf(t, session._id)).map((message) => message.content)).toEqual([`<@${BOT_USER}>`]);
  });

  test("a long mention is cut to a title of at most 80 characters, taken from the start of its text", async () => {
    const t = newBackend();
    const words =
      "the login page 500s after every deploy since Tuesday, and the SSO callback logs a TypeError about idToken; can you look at build 4812 and the auth client bump it shipped?";
    expect(words.length).toBeGreaterThan(120);
    const text = `<@${BOT_USER}> ${words}`;
    expect(await postSlackEvent(t, mentionSaying(text, 2))).toEqual(accepted);
    await settle(t);
    const [session] = await slackSessionsOf(t, ALICE);
    expect(session.title.length).toBeLessThanOrEqual(80);
    expect(session.title.length).toBeGreaterThan(40);
    expect(words.startsWith(session.title.replace(/…$/, ""))).toBe(true);
    // The message itself is kept whole.
    expect((await messagesOf(t, session._id)).map((message) => message.content)).toEqual([text]);
  });

  test("a title cut next to an emoji keeps the emoji whole or leaves it out, never half of it", async () => {
    const t = newBackend();
    const words = `${"the login page 500s after deploy, ".repeat(3).slice(0, 78)}🚀🚀🚀 and then some more`;
    await postSlackEvent(t, mentionSaying(`<@${BOT_USER}> ${words}`, 5));
    await settle(t);
    const [session] = await slackSessionsOf(t, ALICE);
    expect(session.title).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    expect([...session.title].length).toBeLessThanOrEqual(80);
  });

  test("other people mentioned in the text stay in the title as @user", async () => {
    const t = newBackend();
    await postSlackEvent(t, mentionSaying(`<@${BOT_USER}> pair with <@U02BOB> on this`, 6));
    await settle(t);
    expect((await slackSessionsOf(t, ALICE)).map((session) => session.title)).toEqual(["pair with @U02BOB on this"]);
  });

  test("a mention written with the bot's display name (<@U…|name>) is left out of the title too", async () => {
    const t = newBackend();
    await postSlackEvent(t, mentionSaying(`<@${BOT_USER}|jangar> the login page 500s after deploy`, 3));
    await settle(t);
    expect((await slackSessionsOf(t, ALICE)).map((session) => session.title)).toEqual([
      "the login page 500s after deploy",
    ]);
  });

  test("a mention of a bot whose user id has an underscore (<@U_BOT>) is left out of the title", async () => {
    vi.stubEnv("SLACK_BOT_USER_ID", "U_BOT");
    const t = newBackend();
    await postSlackEvent(t, mentionSaying("<@U_BOT> the login page 500s after deploy", 4));
    await settle(t);
    expect((await slackSessionsOf(t, ALICE)).map((session) => session.title)).toEqual([
      "the login page 500s after deploy",
    ]);
  });
});
