import { events } from "./events";
import { github } from "./github";
import { slack } from "./slack";
import type { SourceName, WebhookSource } from "./source";

/** Every sender this service accepts webhooks from, by name. */
export const webhookSources: Record<SourceName, WebhookSource> = { github, slack, events };

