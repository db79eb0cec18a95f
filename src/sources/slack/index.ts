import { z } from "zod";
import type { Interpretation } from "../../commands";
import { accept, reject, type Check } from "../../check";
import { defineSource } from "../defineSource";
import { deliveryKey, Refused, type Delivery, type Settings } from "../source";
import { summarizeIssues } from "../zodIssues";
import { readSlackEvent, type SlackEventReading } from "./events";
import { readInteraction } from "./interactions";
import { appRateLimited, eventCallback, interaction, slashCommand, urlVerification } from "./payloads";
import { signSlackRequest, verifySlackSignature } from "./signature";
import { readSlashCommand } from "./slashCommand";
import { rowOf, shaped, type Row } from "../table";

// Slack rejects requests older than five minutes; so does this endpoint, either way.
const WINDOW_SECONDS = 5 * 60;
const BOT_USER_SETTING = "SLACK_BOT_USER_ID";
const FORM = "application/x-www-form-urlencoded";
const SSL_CHECK_MAX_BYTES = 1024;

/** A Slack request as read: the delivery to record, and what it asks for. */
type SlackRequest = { delivery: Delivery; interpretation: Interpretation };

function interpretationOf(reading: SlackEventReading): Interpretation {
  return "ignored" in reading ? { kind: "ignored", reason: reading.ignored } : { kind: "commands", commands: reading.commands };
}

/** A delivery acted on after it is recorded (or recorded as ignored, with the reason). */
function deferred(delivery: Omit<Delivery, "ignored">, reading: SlackEventReading): SlackRequest {
  const interpretation = interpretationOf(reading);
  return {
    delivery: interpretation.kind === "ignored" ? { ...delivery, ignored: interpretation.reason } : delivery,
    interpretation,
  };
}

const ignoredCallback = (delivery: Delivery): Check<SlackRequest> =>
  accept({ delivery, interpretation: { kind: "ignored", reason: delivery.ignored ?? "" } });

/** Events API callbacks (JSON), by `type`. */
const CALLBACKS: Readonly<Record<string, Row<Settings, SlackRequest>>> = {
  url_verification: shaped("The url_verification callback", urlVerification, ({ challenge }) =>
    ignoredCallback({
      deliveryKey: deliveryKey("url_verification", challenge),
      event: "url_verification",
      ignored: "Slack's url_verification handshake, answered with its challenge.",
      reply: { challenge },
    }),
  ),
  app_rate_limited: shaped("The app_rate_limited callback", appRateLimited, (limited) =>
    ignoredCallback({
      deliveryKey: deliveryKey("app_rate_limited", limited.team_id, String(limited.minute_rate_limited)),
      event: "app_rate_limited",
      ignored: "Slack is rate-limiting this app's events.",
    }),
  ),
  event_callback: shaped("The event_callback", eventCallback, ({ team_id, event_id, event }, settings) => {
    const reading = readSlackEvent(team_id, event, settings[BOT_USER_SETTING]);
    if (!reading.ok) return reject(reading.message);
    // A key of one part never holds an unescaped `:`, so no event_id reads as a handshake's key.
    const delivery = { deliveryKey: deliveryKey(event_id), event: event.type, action: typeof event.subtype === "string" ? event.subtype : undefined };
    return accept(deferred(delivery, reading.value));
  }),
};

const envelope = z.looseObject({ type: z.string() });

/** A JSON body: an Events API callback. */
function readCallback(payload: unknown, settings: Settings): Check<SlackRequest> {
  const parsed = envelope.safeParse(payload);
  if (!parsed.success) {
    return reject(`The body is not a Slack callback: ${summarizeIssues(parsed.error)}`);
  }
  const row = rowOf(CALLBACKS, parsed.data.type);
  return row === undefined
    ? reject(`Slack callback type ${JSON.stringify(parsed.data.type.slice(0, 100))} is not one of ${Object.keys(CALLBACKS).join(", ")}.`)
    : row(payload, settings);
}

/** A form's one `payload` field: an interaction (a click on a card's button), as JSON. */
function readInteractionField(json: string): Check<SlackRequest> {
  let payload: unknown;
  try {
    payload = JSON.parse(json);
  } catch {
    return reject("The form-encoded body's `payload` field is not JSON.");
  }
  return shaped("The interaction", interaction, ({ type, trigger_id }) => {
    const reading = readInteraction(type, payload);
    if (!reading.ok) return reject(reading.message);
    const { action, ...asked } = reading.value;
    return accept(deferred({ deliveryKey: deliveryKey(trigger_id), event: type, action }, asked));
  })(payload, undefined);
}

/** A slash command: applied as it is recorded, so that the reply can say what came of it. */
const readSlash = shaped("A slash command's form", slashCommand, (slash) => {
  const interpretation = interpretationOf(readSlashCommand(slash));
  return accept<SlackRequest>({
    delivery: {
      deliveryKey: deliveryKey(slash.trigger_id),
      event: "slash_command",
      action: slash.command,
      atReceipt: { interpretation, respond: (text) => ({ response_type: "ephemeral", text }) },
    },
    interpretation,
  });
});

// A field name as Slack writes them. A JSON body read as a form starts with a name holding `{`,
// so no signed Events API callback can be re-read as a slash command.
const FIELD_NAME = /^[a-z][a-z_]{0,63}$/;

/** A form body: exactly one field `payload` (an interaction), or a slash command's fields; anything else is a 400. */
function readForm(fields: URLSearchParams): Check<SlackRequest> {
  const names = [...fields.keys()];
  const payload = fields.get("payload");
  if (payload !== null && names.length === 1) {
    return readInteractionField(payload);
  }
  if (payload !== null) {
    return reject(`A form-encoded body holding \`payload\` must be that one field (an interaction); this one has ${names.length - 1} more.`);
  }
  const stray = names.find((name) => !FIELD_NAME.test(name));
  if (stray !== undefined) {
    return reject(
      `The form-encoded body is neither an interaction (one field, payload) nor a slash command: ${JSON.stringify(stray.slice(0, 40))} is not a field Slack sends.`,
    );
  }
  return readSlash(Object.fromEntries(fields), undefined);
}

/** Any Slack request, read as its body was parsed (a form's fields, or JSON): what to record and what it asks for. */
function readSlackRequest(body: unknown, settings: Settings): Check<SlackRequest> {
  return body instanceof URLSearchParams ? readForm(body) : readCallback(body, settings);
}

/** Slack's Events API, interactivity and slash commands (docs/contract.md#3-webhook-routes, docs/contract.md#slack-events-api-event_callback, and the sections after it). */
export const slack = defineSource({
  name: "slack",
  path: "/webhooks/slack",
  secretVariable: "SLACK_SIGNING_SECRET",
  settingNames: [BOT_USER_SETTING],
  bodies: { "application/json": "json", [FORM]: "form" },
  contentTypeAdvice: `this endpoint takes Slack Events API callbacks (application/json), interactions and slash commands (${FORM}).`,
  requiredHeaders: ["X-Slack-Signature", "X-Slack-Request-Timestamp"],
  takes: "Slack Events API callbacks, interactions and slash commands",

  // Slack checks the endpoint's certificate with a form holding ssl_check=1 (and its old verification
  // token), signed or not: answered 200 and never stored (docs/contract.md#hardening-rules). It is a few
  // dozen bytes; a larger form is not one.
  probe(body, format) {
    if (format !== "form" || body.byteLength > SSL_CHECK_MAX_BYTES) return undefined;
    const fields = new URLSearchParams(new TextDecoder().decode(body.bytes));
    return fields.getAll("ssl_check").join(",") === "1" ? { status: "ok" } : undefined;
  },

  // Slack's ids (event_id, trigger_id) are in the signed body: `read` checks them.
  checkHeaders() {},

  async verify({ headers, body, receivedAt }, secret) {
    const timestamp = headers["X-Slack-Request-Timestamp"];
    const seconds = /^\d{1,12}$/.test(timestamp) ? Number(timestamp) : NaN;
    if (!(Math.abs(receivedAt / 1000 - seconds) <= WINDOW_SECONDS)) {
      throw new Refused(401, "X-Slack-Request-Timestamp is more than five minutes from now: a replayed or delayed request, or a clock out of sync.");
    }
    if (!(await verifySlackSignature(secret, timestamp, body, headers["X-Slack-Signature"]))) {
      throw new Refused(401, "X-Slack-Signature does not match: check that SLACK_SIGNING_SECRET is the app's Signing Secret.");
    }
  },

  async sign(secret, { body, timestamp }) {
    return {
      "X-Slack-Request-Timestamp": String(timestamp),
      "X-Slack-Signature": await signSlackRequest(secret, String(timestamp), body),
    };
  },

  readPayload(payload, _headers, settings) {
    const request = readSlackRequest(payload, settings);
    return request.ok ? accept(request.value.delivery) : request;
  },

  interpretPayload(payload, _delivery, settings) {
    const request = readSlackRequest(payload, settings);
    return request.ok ? accept(request.value.interpretation) : request;
  },
});
