import { vEventRequest } from "../model/events/requests";
import { vGithubRequest } from "../model/github/requests";
import { vSlackRequest } from "../model/slack/requests";
import { outboxHandle } from "./destination";

/*
 * The destinations of the outbox, one line each: the name its rows carry
 * and the shape of its requests. Its adapter is the module
 * convex/outbox/destinations/<name>.ts, whose runner functions the lanes
 * find by that name (docs/architecture.md, "Adding a destination").
 */

/** Slack's Web API: replies and cards in threads, ephemeral answers; a lane per channel. */
export const slackOutbox = outboxHandle("slack", vSlackRequest);

/** GitHub's REST API, as the App: reactions and reply comments; a lane per installation. */
export const githubOutbox = outboxHandle("github", vGithubRequest);

/** Jangar's server (events out): each change as a signed request to JANGAR_EVENTS_URL; a lane per session. */
export const eventsOutbox = outboxHandle("events", vEventRequest);

/** Every destination, as the operators' counts list them. */
export const DESTINATIONS = [slackOutbox.destination, githubOutbox.destination, eventsOutbox.destination] as const;
