import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { deliveryKey } from "../../src/sources/source";
import { newBackend } from "../helpers/backend";
import { messageCreated, postEvent } from "../helpers/senders/events";
import { postGithub } from "../helpers/senders/github";
import { newSession } from "../helpers/records";
import { withEverySenderConfigured } from "../helpers/senders/all";
import { postSlack } from "../helpers/senders/slack";
import { stored, expectNothingStored } from "../helpers/inbox/deliveries";

/*
 * The receiving side's trust boundary
 * (docs/contract.md#trust-boundary): the delivery ids a sender sends without
 * signing them are checked before they make a key, and two ids never make
 * the same key.
 */

withEverySenderConfigured();

describe("delivery ids are checked before use", () => {
  test.each([
    ["X-GitHub-Hook-ID", "1:2"],
    ["X-GitHub-Hook-ID", "hook-7"],
    ["X-GitHub-Hook-ID", "1".repeat(21)],
    ["X-GitHub-Delivery", "a:b"],
    ["X-GitHub-Delivery", "72d3162e cc78"],
    ["X-GitHub-Delivery", "x".repeat(65)],
    ["X-GitHub-Delivery", "72d3162e/../cc78"],
  ])("GitHub: %s %j is 400 naming the header", async (header, value) => {
    const t = newBackend();
    const response = await postGithub(t, { event: "ping", payload: { zen: "Keep it logically awesome." }, headers: { [header]: value } });
    expect(response).toEqual({ status: 400, body: { error: expect.stringContaining(header) } });
    await expectNothingStored(t);
  });

  test("GitHub: the longest ids the rule allows (20 digits, 64 characters) are accepted", async () => {
    const t = newBackend();
    const response = await postGithub(t, {
      event: "ping",
      payload: { zen: "Speak like a human." },
      hookId: "9".repeat(20),
      guid: `${"a1-".repeat(21)}z`,
    });
    expect(response).toEqual({ status: 200, body: { status: "accepted", delivery: expect.any(String) } });
  });

  test("hook 1:2 with delivery 3, and hook 1 with delivery 2:3, cannot share a key: both are refused", async () => {
    const t = newBackend();
    const first = await postGithub(t, { event: "ping", payload: { zen: "a" }, hookId: "1:2", guid: "3" });
    const second = await postGithub(t, { event: "ping", payload: { zen: "b" }, hookId: "1", guid: "2:3" });
    expect([first.status, second.status]).toEqual([400, 400]);
    await expectNothingStored(t);
  });

  test("a key's parts are escaped, so that two lists of parts never make the same key", () => {
    expect(deliveryKey("1:2", "3")).not.toBe(deliveryKey("1", "2:3"));
    expect(deliveryKey("292430182", "72d3162e-cc78")).toBe("292430182:72d3162e-cc78");
    const parts = fc.array(fc.string({ unit: fc.constantFrom("1", ":", "%", "3", "A", "a") }), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(parts, parts, (a, b) => {
        expect(deliveryKey(...a) === deliveryKey(...b)).toBe(JSON.stringify(a) === JSON.stringify(b));
      }),
      { numRuns: 2000 },
    );
  });

  test.each([["webhook-id", ":"], ["webhook-id", "%"], ["event_id", ":"]])(
    "a %s of 256 %j characters (escaped to 768 in its key) is accepted, as the rule allows",
    async (field, char) => {
      const t = newBackend();
      const id = char.repeat(256);
      const response =
        field === "webhook-id"
          ? await postEvent(t, { id, event: messageCreated(await newSession(t, "alice"), { role: "user", content: "hi" }) })
          : await postSlack(t, {
              payload: { type: "event_callback", team_id: "T0ACME", event_id: id, event_time: Math.floor(Date.now() / 1000), event: { type: "reaction_added", user: "U01ALICE" } },
            });
      expect(response).toMatchObject({ status: 200, body: { delivery: expect.any(String) } });
      expect((await stored(t)).deliveries.map((row) => row.deliveryKey.length)).toEqual([768]);
    },
  );

  test.each([
    ["webhook-id", "msg 2qJ7"],
    ["webhook-id", "x".repeat(257)],
    ["webhook-id", "msg_2qJ7\u00e9"],
    ["svix-id", "msg\t2qJ7"],
  ])("events: %s %j is 400 naming webhook-id", async (header, value) => {
    const t = newBackend();
    const sessionId = await newSession(t, "alice");
    const headers: Record<string, string | null> = header === "svix-id" ? { "webhook-id": null, "svix-id": value } : { "webhook-id": value };
    const response = await postEvent(t, { event: messageCreated(sessionId, { role: "user", content: "hi" }), headers });
    expect(response).toMatchObject({ status: 400, body: { error: expect.stringContaining("webhook-id") } });
    await expectNothingStored(t);
  });

  test.each([["Ev 08T3M1"], ["x".repeat(257)], ["Ev08\u00e9T3"]])("Slack: event_id %j is 400 naming event_id", async (eventId) => {
    const t = newBackend();
    const response = await postSlack(t, {
      payload: {
        type: "event_callback",
        team_id: "T0ACME",
        event_id: eventId,
        event_time: Math.floor(Date.now() / 1000),
        event: { type: "reaction_added", user: "U01ALICE" },
      },
    });
    expect(response).toEqual({ status: 400, body: { error: expect.stringContaining("event_id") } });
    await expectNothingStored(t);
  });
});
