import { readFileSync } from "node:fs";
import { FakeGitHub } from "../../../fakes/github";
import { fetchFrom } from "../../../fakes/http";
import { FakeJangar } from "../../../fakes/jangar";
import { FakeSlack } from "../../../fakes/slack";
import { FakeTemporal } from "../../../fakes/temporal";
import { CHANNEL, DEMO_SETTINGS } from "./settings";

/** The outside services the deployment calls in the demo: fake Temporal, Slack and GitHub APIs. */
export function outsideServices() {
  const temporal = new FakeTemporal({ baseUrl: DEMO_SETTINGS.TEMPORAL_HTTP_URL, namespace: DEMO_SETTINGS.TEMPORAL_NAMESPACE });
  const slack = new FakeSlack({ token: DEMO_SETTINGS.SLACK_BOT_TOKEN, channels: [CHANNEL] });
  const github = new FakeGitHub({
    baseUrl: DEMO_SETTINGS.GITHUB_API_URL,
    appId: DEMO_SETTINGS.GITHUB_APP_ID,
    appSlug: DEMO_SETTINGS.GITHUB_APP_SLUG,
    publicKeyPem: readFileSync(new URL("../../../fixtures/github-app/app.public.pem", import.meta.url), "utf8"),
  });
  return { temporal, slack, github };
}

/** Sets the deployment's settings and routes `fetch` to the fakes; returns how to undo both. */
export function stage(temporal: FakeTemporal, slack: FakeSlack, github: FakeGitHub, jangar: FakeJangar, calls: string[]) {
  const saved = Object.fromEntries(Object.keys(DEMO_SETTINGS).map((name) => [name, process.env[name]]));
  Object.assign(process.env, DEMO_SETTINGS);
  const realFetch = globalThis.fetch;
  const names = new Map<unknown, string>([[temporal, "Temporal"], [slack, "Slack"], [github, "GitHub"], [jangar, "Jangar's server"]]);
  globalThis.fetch = fetchFrom<FakeTemporal | FakeSlack | FakeGitHub | FakeJangar>([temporal, slack, github, jangar], async (fake, { method, url }, response) => {
    const answer = (await response.clone().text()).slice(0, 160);
    const event = fake === jangar ? ` ${jangar.calls.at(-1)?.event?.type ?? ""}` : "";
    // A token GitHub issues is a secret: its answer is not shown.
    const shown = url.pathname.endsWith("/access_tokens") ? "(an installation token)" : answer;
    calls.push(`${names.get(fake)} ${method} ${url.pathname}${event} → ${response.status} ${shown}`.trimEnd());
  });
  return () => {
    globalThis.fetch = realFetch;
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}
