import type { Check } from "../check";
import type { Interpretation } from "../commands";
import { parseBody } from "./admission";
import { decodeUtf8 } from "./body";
import { mediaType, Refused, UninterpretableDelivery, type Delivery, type HeaderValues, type Settings, type StoredDelivery, type WebhookSource } from "./source";

/**
 * A sender as written: what a WebhookSource declares, and its two readings
 * of a payload as checks. Each reads through the sender's own tables
 * (./table.ts); the failures are turned into answers here, the same way for
 * every sender.
 */
export type SourceSpec = Omit<WebhookSource, "read" | "interpret"> & {
  /** At receipt: the delivery a verified payload is, or what is wrong with it (answered 400). */
  readPayload(payload: unknown, headers: HeaderValues, settings: Settings): Check<Delivery>;
  /** At processing: what a stored payload asks of the data, or why it no longer reads (final: it never will). */
  interpretPayload(payload: unknown, delivery: Pick<StoredDelivery, "deliveryKey" | "event">, settings: Settings): Check<Interpretation>;
};

/**
 * The WebhookSource of a sender: `read` refuses what its reading refuses
 * with a 400; `interpret` reads the stored body as it was admitted, and
 * makes what its reading refuses an UninterpretableDelivery.
 *
 * @example
 * export const github = defineSource({ name: "github", ..., readPayload, interpretPayload });
 */
export function defineSource({ readPayload, interpretPayload, ...declared }: SourceSpec): WebhookSource {
  const source: WebhookSource = {
    ...declared,
    read(payload, headers, settings) {
      const delivery = readPayload(payload, headers, settings);
      if (!delivery.ok) {
        throw new Refused(400, delivery.message);
      }
      return delivery.value;
    },
    interpret(delivery, settings) {
      const interpretation = interpretPayload(storedPayload(source, delivery), delivery, settings);
      if (!interpretation.ok) {
        throw new UninterpretableDelivery(source.name, interpretation.message);
      }
      return interpretation.value;
    },
  };
  return source;
}

/** The JSON of a stored delivery, read as it was admitted (by its stored content type). */
function storedPayload(source: WebhookSource, delivery: StoredDelivery): unknown {
  const contentType = mediaType(delivery.contentType);
  const format = Object.hasOwn(source.bodies, contentType) ? source.bodies[contentType] : undefined;
  if (format === undefined) {
    throw new UninterpretableDelivery(source.name, `content type ${contentType} is not accepted.`);
  }
  const text = decodeUtf8(delivery.body);
  if (!text.ok) {
    throw new UninterpretableDelivery(source.name, text.message);
  }
  try {
    return parseBody(text.value, format);
  } catch (error) {
    throw new UninterpretableDelivery(source.name, (error as Error).message);
  }
}
