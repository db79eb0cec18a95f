import { FakeSlack } from "../../../fakes/slack";
import { FakeTemporal } from "../../../fakes/temporal";
import { FAKE_JANGAR_SECRET, FAKE_JANGAR_URL, FakeJangar } from "../../../fakes/jangar";
import { settingState } from "../../../src/settings";

/**
 * The outside services the embedded backend's functions call: Slack's Web
 * API, Temporal's HTTP API and Jangar's server (events out). Each is faked, in this process, unless the
 * settings name a real one (a bot token for Slack, TEMPORAL_HTTP_URL for
 * Temporal, JANGAR_EVENTS_URL for Jangar's server). The fakes answer for their own base URLs through one `fetch`
 * installed in place of the global one; every other URL goes to the network.
 *
 * The seam: a fake is anything with `handles(url)` and `fetch(input, init)`,
 * the shape every fake of the project follows (fakes/<service>.ts).
 * GitHub's API is called only with the GitHub App's settings, which `npm run
 * serve` leaves unset; set them and the real API is called.
 */

type Fetch = typeof globalThis.fetch;

export type FakeService = { name: string; handles: (url: URL) => boolean; fetch: Fetch };

export type Outside = {
  /** Settings the fakes need (a token, a base URL), added under the given ones. */
  settings: Record<string, string>;
  /** One line per service: faked, or real and where. */
  lines: string[];
  fakes: FakeService[];
  slack: FakeSlack | null;
  temporal: FakeTemporal | null;
  jangar: FakeJangar | null;
};

export const FAKE_SLACK_BASE = "https://slack.com/api";
export const FAKE_SLACK_BOT_TOKEN = "xoxb-0000000000-0000000000000-jangarservefake";
export const FAKE_TEMPORAL_URL = "http://temporal.fake.invalid:7243";

function slackOf(settings: Readonly<Record<string, string | undefined>>): Pick<Outside, "settings" | "lines" | "slack"> & { fake?: FakeService } {
  if (settings.SLACK_BOT_TOKEN !== undefined) {
    return { settings: {}, slack: null, lines: [`Slack Web API   real, at ${settings.SLACK_API_URL ?? FAKE_SLACK_BASE} (SLACK_BOT_TOKEN is set)`] };
  }
  const slack = new FakeSlack({ token: FAKE_SLACK_BOT_TOKEN, baseUrl: FAKE_SLACK_BASE });
  return {
    settings: { SLACK_BOT_TOKEN: FAKE_SLACK_BOT_TOKEN, SLACK_API_URL: FAKE_SLACK_BASE },
    slack,
    lines: ["Slack Web API   fake, in this process: posts and edits are kept in memory (set SLACK_BOT_TOKEN for the real one)"],
    fake: { name: "Slack", handles: (url) => url.href.startsWith(`${FAKE_SLACK_BASE}/`), fetch: slack.fetch },
  };
}

function temporalOf(settings: Readonly<Record<string, string | undefined>>): Pick<Outside, "settings" | "lines" | "temporal"> & { fake?: FakeService } {
  if (settings.TEMPORAL_HTTP_URL !== undefined) {
    return { settings: {}, temporal: null, lines: [`Temporal        real, at ${settings.TEMPORAL_HTTP_URL}`] };
  }
  const namespace = settings.TEMPORAL_NAMESPACE ?? "default";
  const temporal = new FakeTemporal({ baseUrl: new URL(FAKE_TEMPORAL_URL).origin, namespace });
  return {
    settings: { TEMPORAL_HTTP_URL: FAKE_TEMPORAL_URL, TEMPORAL_NAMESPACE: namespace, TEMPORAL_TASK_QUEUE: settings.TEMPORAL_TASK_QUEUE ?? "jangar" },
    temporal,
    lines: ["Temporal        fake, in this process: orders are launched and stay RUNNING (set TEMPORAL_HTTP_URL for a real one)"],
    fake: { name: "Temporal", handles: (url) => temporal.handles(url), fetch: temporal.fetch },
  };
}

function jangarOf(settings: Readonly<Record<string, string | undefined>>): Pick<Outside, "settings" | "lines" | "jangar"> & { fake?: FakeService } {
  if (settings.JANGAR_EVENTS_URL !== undefined) {
    return { settings: {}, jangar: null, lines: [`Jangar's server real, at ${settings.JANGAR_EVENTS_URL} (events out)`] };
  }
  const secret = settings.JANGAR_EVENTS_SECRET ?? FAKE_JANGAR_SECRET;
  const given = settingState("JANGAR_EVENTS_SECRET", secret);
  if (given.state === "malformed") {
    throw new Error(
      `JANGAR_EVENTS_SECRET: ${given.why}. Set it to whsec_ followed by a base64 key (npm run doctor checks every setting), or unset it to use the fake Jangar server's own secret.`,
    );
  }
  const jangar = new FakeJangar({ baseUrl: FAKE_JANGAR_URL, secrets: secret.split(/\s+/).filter(Boolean) });
  return {
    settings: { JANGAR_EVENTS_URL: FAKE_JANGAR_URL, JANGAR_EVENTS_SECRET: secret },
    jangar,
    lines: ["Jangar's server fake, in this process: events out are verified and kept in memory (set JANGAR_EVENTS_URL for a real one)"],
    fake: { name: "Jangar", handles: (url) => jangar.handles(url), fetch: jangar.fetch },
  };
}

export function outsideServices(settings: Readonly<Record<string, string | undefined>>): Outside {
  const slack = slackOf(settings);
  const temporal = temporalOf(settings);
  const jangar = jangarOf(settings);
  return {
    settings: { ...slack.settings, ...temporal.settings, ...jangar.settings },
    lines: [...slack.lines, ...temporal.lines, ...jangar.lines],
    fakes: [slack.fake, temporal.fake, jangar.fake].filter((fake): fake is FakeService => fake !== undefined),
    slack: slack.slack,
    temporal: temporal.temporal,
    jangar: jangar.jangar,
  };
}

function urlOf(input: RequestInfo | URL): string {
  return typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
}

/** Puts a `fetch` that answers the fakes' URLs in place of the global one; returns how to put the original back. */
export function routeFetch(fakes: FakeService[]): () => void {
  const original = globalThis.fetch;
  globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(urlOf(input));
    const fake = fakes.find((candidate) => candidate.handles(url));
    return fake === undefined ? await original(input, init) : await fake.fetch(input, init);
  };
  return () => {
    globalThis.fetch = original;
  };
}
