import { Webhook, WebhookVerificationError } from "svix";
import type { Command } from "../../commands";
import type { z } from "zod";
import { LIMITS } from "../../limits";
import { checkStorableField } from "../../storable";
import { accept, reject as skipped, type Check } from "../../check";
import {
  mediaType,
  parseJson,
  reject,
  UninterpretableDelivery,
  utf8Text,
  type Admission,
  type WebhookSource,
} from "../source";
import { summarizeIssues } from "../zodIssues";
import {
  EVENT_DATA,
  envelope,
  workOrderLinkAdded,
  workOrderStatusChanged,
  chatMessageCreated,
  type EventType,
} from "./payloads";

const HEADER_PAIRS = [
  ["webhook-id", "svix-id"],
  ["webhook-timestamp", "svix-timestamp"],
  ["webhook-signature", "svix-signature"],
] as const;

function isEventType(type: string): type is EventType {
  return Object.hasOwn(EVENT_DATA, type);
}

// A key shorter than this could be guessed; Standard Webhooks keys are 24 to 64 bytes.
const MIN_KEY_BYTES = 16;

/** The verifiers of EVENTS_WEBHOOK_SECRET's secrets, or why one of them is unusable. */
function verifiers(setting: string): Webhook[] | string {
  const secrets = setting.split(/\s+/).filter(Boolean);
  const webhooks: Webhook[] = [];
  for (const [index, secret] of secrets.entries()) {
    const which = secrets.length > 1 ? `secret ${index + 1} of EVENTS_WEBHOOK_SECRET` : "EVENTS_WEBHOOK_SECRET";
    let keyBytes: number;
    try {
      keyBytes = atob(secret.replace(/^whsec_/, "")).length;
      webhooks.push(new Webhook(secret));
    } catch {
      return `${which} is not a whsec_<base64> key; nothing was stored.`;
    }
    if (keyBytes < MIN_KEY_BYTES) {
      return `${which} is a ${keyBytes}-byte key; at least ${MIN_KEY_BYTES} bytes are needed. Nothing was stored.`;
    }
  }
  return webhooks;
}

/**
 * Verifies with each configured secret in turn (rotation: EVENTS_WEBHOOK_SECRET
 * holds several, space-separated). svix checks the five-minute window and
 * the signature, and parses the body once a signature matches.
 */
function verify(webhooks: Webhook[], text: string, headers: Record<string, string>): { payload: unknown } | Admission {
  let unverifiable: string | null = null;
  for (const webhook of webhooks) {
    try {
      return { payload: webhook.verify(text, headers) as unknown };
    } catch (error) {
      if (error instanceof SyntaxError) {
        return reject(400, "The body is not JSON.");
      }
      if (error instanceof WebhookVerificationError && /timestamp|Signature Headers/i.test(error.message)) {
        unverifiable = error.message;
      }
    }
  }
  return unverifiable !== null
    ? reject(401, `webhook-timestamp must be within five minutes of now (${unverifiable}).`)
    : reject(401, "No signature in webhook-signature matches: check that the sender's secret is one of EVENTS_WEBHOOK_SECRET.");
}

/** A part of a stored body, read with its schema; what no longer reads is final. */
function readStored<T>(schema: z.ZodType<T>, value: unknown, path?: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new UninterpretableDelivery("events", summarizeIssues(parsed.error, path));
  }
  return parsed.data;
}

/** Chat platforms and workflow runners, as Standard Webhooks (Svix) events. */
export const events: WebhookSource = {
  name: "events",
  path: "/webhooks/events",
  secretVariable: "EVENTS_WEBHOOK_SECRET",
  settingNames: [],

  async admit({ headers, body }, secret) {
    const contentType = mediaType(headers.get("content-type"));
    if (contentType !== "application/json") {
      return reject(415, `Content-Type ${JSON.stringify(contentType)} is not accepted: send application/json.`);
    }
    const values: Record<string, string> = {};
    const missing: string[] = [];
    for (const [name, svixName] of HEADER_PAIRS) {
      const value = headers.get(name) ?? headers.get(svixName);
      if (value) {
        values[name] = value;
      } else {
        missing.push(`${name} (or ${svixName})`);
      }
    }
    if (missing.length > 0) {
      return reject(400, `Missing header${missing.length > 1 ? "s" : ""} ${missing.join(", ")}: this endpoint takes Standard Webhooks.`);
    }
    if (!/^\d{1,12}$/.test(values["webhook-timestamp"])) {
      return reject(401, "webhook-timestamp must be a Unix time in seconds.");
    }
    const webhooks = verifiers(secret);
    if (typeof webhooks === "string") {
      return reject(503, webhooks);
    }
    const text = utf8Text(body);
    if (text === null) {
      return reject(400, "The body is not valid UTF-8.");
    }
    const verified = verify(webhooks, text, values);
    if ("kind" in verified) {
      return verified;
    }
    const event = envelope.safeParse(verified.payload);
    if (!event.success) {
      return reject(400, `The body is not a { type, timestamp, data } event: ${summarizeIssues(event.error)}`);
    }
    const { type, data } = event.data;
    if (!isEventType(type)) {
      return { kind: "deliver", deliveryKey: values["webhook-id"], event: type, contentType, ignored: `Event type ${type} is not acted on.` };
    }
    const checked = EVENT_DATA[type].safeParse(data);
    if (!checked.success) {
      return reject(400, `The ${type} event's data is invalid: ${summarizeIssues(checked.error, "data")}`);
    }
    return { kind: "deliver", deliveryKey: values["webhook-id"], event: type, contentType };
  },

  interpret({ body, event, deliveryKey }) {
    const payload = parseJson(utf8Text(body) ?? "");
    if (payload === undefined) {
      throw new UninterpretableDelivery("events", "the body is not JSON.");
    }
    const data = readStored(envelope, payload).data;
    const commands = ((): Check<Command[]> => {
      switch (event) {
        case "chat.message.created": {
          const message = readStored(chatMessageCreated, data, "data");
          // Checked before it becomes a command: metadata nested past Convex's limits cannot even be passed to a mutation.
          const metadata = message.metadata === undefined ? null : checkStorableField("metadata", message.metadata, LIMITS.valueBytes);
          if (metadata !== null && !metadata.ok) {
            return skipped(`Message events:${deliveryKey} not appended: ${metadata.message}`);
          }
          return accept([
            {
              type: "appendMessage",
              sessionId: message.sessionId,
              message: {
                externalId: `events:${deliveryKey}`,
                role: message.role,
                content: message.content,
                metadata: message.metadata,
              },
            },
          ]);
        }
        case "work_order.status.changed": {
          const change = readStored(workOrderStatusChanged, data, "data");
          return accept([
            {
              type: "changeStatus",
              workOrders: [{ by: "id", workOrderId: change.workOrderId }],
              to: change.status,
              reason: change.reason,
            },
          ]);
        }
        case "work_order.link.added": {
          const { workOrderId, kind, value } = readStored(workOrderLinkAdded, data, "data");
          return accept([{ type: "addLink", workOrders: [{ by: "id", workOrderId }], link: { kind, value } }]);
        }
        default:
          return accept([]);
      }
    })();
    if (!commands.ok) {
      return { kind: "ignored", reason: commands.message };
    }
    return commands.value.length > 0
      ? { kind: "commands", commands: commands.value }
      : { kind: "ignored", reason: `Event type ${event} is not acted on.` };
  },
};
