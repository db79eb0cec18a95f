// `npx tsx scripts/fake-slack.ts`: a round trip between a Slack thread and
// Jangar, offline, on an embedded backend and a fake Slack Web API over
// loopback HTTP. `--serve [--port 4111]` runs the fake alone, printing each
// request, for a local deployment pointed at it with SLACK_API_URL.
import { parseArgs } from "node:util";
import { FakeSlack } from "../fakes/slack";
import { convexModules } from "./lib/modules";
import { ROUND_TRIP_SETTINGS, slackRoundTrip } from "./lib/slackRoundTrip";

const USAGE = `usage: npm run fake-slack -- [--serve [--port <n>] [--token <xoxb-...>]]
  (no flags)   a full round trip on an embedded backend: a mention, a reply posted, its echo ignored, a card posted and edited
  --serve      only the fake Slack Web API on 127.0.0.1:<port> (default 4111), for a local deployment:
                 npx convex env set SLACK_API_URL http://127.0.0.1:4111/api
                 npx convex env set SLACK_BOT_TOKEN <the same token as --token>`;

const { values } = parseArgs({
  options: {
    serve: { type: "boolean", default: false },
    port: { type: "string", default: "4111" },
    token: { type: "string", default: ROUND_TRIP_SETTINGS.SLACK_BOT_TOKEN },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

if (values.serve) {
  const slack = new FakeSlack({ token: values.token });
  slack.onCall = (event) => console.log("violation" in event ? `refused: ${event.violation}` : `${event.call.method} ${JSON.stringify(event.call.args)}`);
  const { url } = await slack.serve(Number(values.port));
  console.log(`fake Slack Web API on ${url} (bot token ${values.token}); Ctrl-C to stop`);
} else {
  Object.assign(process.env, ROUND_TRIP_SETTINGS);
  const { convexTest } = await import("convex-test");
  const { default: schema } = await import("../convex/schema");
  const result = await slackRoundTrip(convexTest(schema, convexModules()), (line) => console.log(line));
  if (result.violations.length > 0) {
    console.error(`the fake Slack refused requests: ${result.violations.join("; ")}`);
    process.exit(1);
  }
}
