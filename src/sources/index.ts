import { github } from "./github";
import type { SourceName, WebhookSource } from "./source";

/** Every sender this service accepts webhooks from, by name. */
export const webhookSources: Partial<Record<SourceName, WebhookSource>> = { github };

export function webhookSource(name: SourceName): WebhookSource {
  const source = webhookSources[name];
  if (source === undefined) {
    throw new Error(`No webhook source named ${name} is configured.`);
  }
  return source;
}
