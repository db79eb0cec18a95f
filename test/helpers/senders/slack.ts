import { overrideHeaders } from "./headers";
import { afterEach, beforeEach, expect, vi } from "vitest";
import { api } from "../../../convex/_generated/api";
import { FAKE_SLACK_TOKEN, FakeSlack } from "../../../fakes/slack";
import { signSlackRequest } from "../../../src/sources/slack/signature";
import type { Backend } from "../backend";
import { asService } from "../callers";
import { FIRST_PAGE } from "../records";

// Slack's example Signing Secret (https://api.slack.com/authentication/verifying-requests-from-slack).
export const SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";

// The workspace of the fixtures in fixtures/slack/.
export const TEAM = "T0ACME";
export const BOT_USER = "U0JANGAR";
export const ALICE = "U01ALICE";
export const BOB = "U02BOB";

const utf8 = new TextEncoder();

/** The app as installed: its Signing Secret and its bot user, set on the deployment. */
export function configureSlackApp() {
  vi.stubEnv("SLACK_SIGNING_SECRET", SLACK_SECRET);
  vi.stubEnv("SLACK_BOT_USER_ID", BOT_USER);
}

/**
 * For each test of the block: the app configured, the bot token set, and a
 * fresh fake of Slack's Web API standing in for fetch (`.slack`); after
 * each, the fake has refused nothing.
 */
export function withFakeSlack(): { readonly slack: FakeSlack } {
  const fake = { slack: new FakeSlack() };
  beforeEach(() => {
    fake.slack = new FakeSlack();
    vi.stubGlobal("fetch", fake.slack.fetch);
    configureSlackApp();
    vi.stubEnv("SLACK_BOT_TOKEN", FAKE_SLACK_TOKEN);
  });
  afterEach(() => {
    expect(fake.slack.violations).toEqual([]);
  });
  return fake;
}

/** An Events API envelope as Slack posts it (the fixtures' shape). */
export type SlackEnvelope = { type: string; event_id?: string; event_time?: number; [field: string]: unknown };

export type SlackDelivery = {
  /** Sent as JSON; or `body`, sent byte for byte. */
  payload?: unknown;
  body?: string | Uint8Array;
  secret?: string;
  /** X-Slack-Request-Timestamp; by default the current (fake) time in seconds. */
  timestamp?: string;
  /** Slack's retry headers, for a delivery Slack sends again. */
  retry?: { num: number; reason: string };
  /** Headers to set or, with null, leave out; applied last. */
  headers?: Record<string, string | null>;
};

export type SlackRequest = { method: "POST"; headers: Record<string, string>; body: Uint8Array<ArrayBuffer> };

/** The request Slack sends: raw body, X-Slack-Signature over `v0:{timestamp}:{body}`, Slack's headers. */
export async function slackRequest(delivery: SlackDelivery): Promise<SlackRequest> {
  const raw = delivery.body ?? JSON.stringify(delivery.payload);
  const body = typeof raw === "string" ? utf8.encode(raw) : new Uint8Array(raw);
  // Slack's signer (the one the source verifies with), over any timestamp a test sends, a number or not.
  const timestamp = delivery.timestamp ?? String(Math.floor(Date.now() / 1000));
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    Accept: "*/*",
    "Accept-Encoding": "gzip,deflate",
    "X-Slack-Request-Timestamp": timestamp,
    "X-Slack-Signature": await signSlackRequest(delivery.secret ?? SLACK_SECRET, timestamp, body),
  };
  if (delivery.retry !== undefined) {
    headers["X-Slack-Retry-Num"] = String(delivery.retry.num);
    headers["X-Slack-Retry-Reason"] = delivery.retry.reason;
  }
  overrideHeaders(headers, delivery.headers);
  return { method: "POST", headers, body };
}

export async function postSlack(t: Backend, delivery: SlackDelivery) {
  const response = await t.fetch("/webhooks/slack", await slackRequest(delivery));
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/**
 * Posts an Events API callback as Slack does, a second after its event
 * happened: the fake clock moves forward to `event_time` + 1 s first (never
 * back, so a retry goes out at the time it is sent).
 */
export async function postSlackEvent(t: Backend, envelope: SlackEnvelope, delivery: Omit<SlackDelivery, "payload" | "body"> = {}) {
  if (envelope.event_time !== undefined) {
    vi.setSystemTime(Math.max(Date.now(), envelope.event_time * 1000 + 1000));
  }
  return await postSlack(t, { ...delivery, payload: envelope });
}

/** Slack's answer to a delivery taken: 200, accepted, with the delivery's id. */
export const accepted = { status: 200, body: { status: "accepted", delivery: expect.any(String) } };

/** The sessions a Slack user has, as Jangar's server lists them (most recently updated first). */
export async function slackSessionsOf(t: Backend, user: string, team = TEAM) {
  const page = await asService(t).query(api.chatSessions.list, {
    userId: `slack:${team}:${user}`,
    paginationOpts: FIRST_PAGE,
  });
  return page.page;
}

export const FORM = "application/x-www-form-urlencoded";
let triggers = 0;

/** A trigger_id as Slack makes them: unique per click or command. */
export function newTriggerId(): string {
  triggers += 1;
  return `8913227${String(triggers).padStart(6, "0")}.7711034220.${crypto.randomUUID().replaceAll("-", "")}`;
}

/** The form a click on a card's button is: one field, `payload`, holding the interaction (Slack's block_actions) as JSON. */
export function clickOn(
  action: "work_order.cancel" | "work_order.retry",
  workOrderId: string,
  { user = ALICE, channel = "C0AB1", threadTs = "1747213923.482109", triggerId = newTriggerId() } = {},
): Record<string, string> {
  return {
    payload: JSON.stringify({
      type: "block_actions",
      user: { id: user, username: user.toLowerCase(), team_id: TEAM },
      api_app_id: "A0JANGAR",
      token: "ZZpzP0QJxVYcCTFTSqd5Ysyl",
      container: { type: "message", message_ts: "1747213931.000200", channel_id: channel, is_ephemeral: false, thread_ts: threadTs },
      trigger_id: triggerId,
      team: { id: TEAM, domain: "acme" },
      channel: { id: channel, name: "incidents" },
      message: { type: "message", ts: "1747213931.000200", thread_ts: threadTs, bot_id: "B0JANGAR", text: "Work order" },
      state: { values: {} },
      response_url: `https://hooks.slack.com/actions/${TEAM}/8913227104615/a1b2c3`,
      actions: [{ action_id: action, block_id: "Qk9n", type: "button", value: workOrderId, action_ts: "1747214420.118274" }],
    }),
  };
}

/** The fields of a slash command, `/jangar <text>`, as Slack posts them. */
export function slashCommand(text: string, { user = ALICE, channel = "C0AB1", triggerId = newTriggerId() } = {}): Record<string, string> {
  return {
    token: "ZZpzP0QJxVYcCTFTSqd5Ysyl",
    team_id: TEAM,
    team_domain: "acme",
    channel_id: channel,
    channel_name: "incidents",
    user_id: user,
    user_name: user.toLowerCase(),
    command: "/jangar",
    text,
    api_app_id: "A0JANGAR",
    is_enterprise_install: "false",
    response_url: `https://hooks.slack.com/commands/${TEAM}/8913227104616/b2c3d4`,
    trigger_id: triggerId,
  };
}

/** Posts form fields as Slack does for interactivity and slash commands: form-encoded, signed like every Slack request. */
export async function postSlackForm(t: Backend, fields: Record<string, string> | string, delivery: Omit<SlackDelivery, "payload" | "body"> = {}) {
  const body = typeof fields === "string" ? fields : new URLSearchParams(fields).toString();
  return await postSlack(t, { ...delivery, body, headers: { "Content-Type": FORM, ...delivery.headers } });
}
