import { describe, expect, test, vi } from "vitest";
import aliceMentionsBot from "../../../fixtures/slack/01-alice-mentions-bot.json";
import { newBackend } from "../../helpers/backend";
import { orderOf } from "../../helpers/records";
import { withFakeClock } from "../../helpers/clock";
import { ALICE, TEAM, clickOn, newTriggerId, postSlackForm, slashCommand, withFakeSlack } from "../../helpers/senders/slack";
import { stored as storedDeliveries, storedBody } from "../../helpers/inbox/deliveries";
import { aliceThreadWithOrder } from "../../helpers/slack/interactivity";

/*
 * Form bodies on POST /webhooks/slack: a click on a card's button and a
 * slash command come form-encoded, signed as every Slack request; what is
 * taken, and what is refused before anything is stored.
 */

withFakeClock({ now: new Date("2025-05-14T09:00:00Z") });
withFakeSlack();

describe("form bodies on /webhooks/slack", () => {
  // https://api.slack.com/authentication/verifying-requests-from-slack: a slash command.
  const VECTOR = {
    timestamp: "1531420618",
    body: "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c",
    signature: "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
  };

  test("Slack's published signing vector verifies as a form: a slash command, answered and recorded under its trigger_id", async () => {
    vi.stubEnv("SLACK_SIGNING_SECRET", "8f742231b10e8888abcd99yyyzzz85a5");
    vi.setSystemTime(Number(VECTOR.timestamp) * 1000 + 2000);
    const t = newBackend();
    const response = await postSlackForm(t, VECTOR.body, { timestamp: VECTOR.timestamp, headers: { "X-Slack-Signature": VECTOR.signature } });
    expect(response).toEqual({ status: 200, body: { response_type: "ephemeral", text: "You have not requested any work orders." } });
    const { deliveries } = await storedDeliveries(t);
    expect(deliveries).toMatchObject([
      {
        source: "slack",
        deliveryKey: "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c",
        contentType: "application/x-www-form-urlencoded",
        event: "slash_command",
        action: "/webhook-collect",
        status: "processed",
        bodyBytes: VECTOR.body.length,
      },
    ]);
    expect(new TextDecoder().decode(new Uint8Array(await storedBody(t, deliveries[0]._id)))).toBe(VECTOR.body);
  });

  const interaction = (fields: Record<string, unknown>) => `payload=${encodeURIComponent(JSON.stringify(fields))}`;
  const command = new URLSearchParams(slashCommand("status")).toString();
  const click = new URLSearchParams(clickOn("work_order.cancel", "k57f8gq2wz0d4r8qnw1h3x6f9s7v2c1b")).toString();

  test.each([
    ["two fields that are neither", "a=1&b=2", /slash command's form is not of the expected shape: command/],
    ["payload and more fields", `${click}&command=%2Fjangar`, /must be that one field/],
    ["payload that is not JSON", "payload=%7Bnot%20json", /payload.*not JSON/],
    ["a JSON body sent as a form", JSON.stringify(aliceMentionsBot), /neither an interaction/],
    ["a field given twice", `${command}&text=cancel`, /more than once/],
    ["a slash command without trigger_id", command.replace(/&trigger_id=[^&]*/, ""), /trigger_id/],
    ["a trigger_id with a space", command.replace(/trigger_id=[^&]*/, "trigger_id=1.2%203"), /trigger_id/],
    ["an interaction without trigger_id", interaction({ type: "block_actions", actions: [] }), /trigger_id/],
    ["a click without the clicked message's channel", interaction({ ...JSON.parse(clickOn("work_order.cancel", "k57x").payload), container: { type: "view", view_id: "V1" } }), /container/],
  ])("%s is 400, and nothing is stored", async (_label, body, error) => {
    const t = newBackend();
    const response = await postSlackForm(t, body);
    expect(response).toEqual({ status: 400, body: { error: expect.stringMatching(error) } });
    expect(await storedDeliveries(t)).toEqual({ deliveries: [], bodies: [], blobs: [] });
  });

  test("a signed message event whose text spells a slash command is that message, and nothing else: as a form it is 400", async () => {
    const t = newBackend();
    const { workOrderId } = await aliceThreadWithOrder(t);
    const forged = structuredClone(aliceMentionsBot);
    forged.event_id = "Ev08FORGED01";
    forged.event.text = `x&${new URLSearchParams(slashCommand(`cancel ${workOrderId}`)).toString()}&z=`;
    const asForm = await postSlackForm(t, JSON.stringify(forged));
    expect(asForm.status).toBe(400);
    expect((await orderOf(t, workOrderId)).status).toBe("submitted");
  });

  test("an interaction this app does not act on (a shortcut) is recorded as ignored", async () => {
    const t = newBackend();
    const response = await postSlackForm(t, interaction({ type: "shortcut", callback_id: "x", trigger_id: newTriggerId(), team: { id: TEAM }, user: { id: ALICE } }));
    expect(response).toEqual({ status: 200, body: { status: "ignored", delivery: expect.any(String), reason: "Slack's shortcut interaction is not acted on." } });
  });
});
