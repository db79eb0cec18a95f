// `npm run send -- <fixture or directory>... --url <site URL>`: signs fixture
// payloads as their senders do and posts them to a deployment's HTTP actions.
import { parseArgs } from "node:util";
import { formatResult, isRejected, loadFixtures, send, SECRET_VARIABLES, summarize } from "./lib/send";

const USAGE = `usage: npm run send -- <fixture.json | directory>... --url <site URL>
  --url <url>             the deployment's HTTP actions URL (default: CONVEX_SITE_ORIGIN, or http://127.0.0.1:3211 for npm run dev)
  --github-secret <s>     default: GITHUB_WEBHOOK_SECRET
  --slack-secret <s>      default: SLACK_SIGNING_SECRET
  --events-secret <s>     default: EVENTS_WEBHOOK_SECRET
  --repeat <n>            send each delivery n times with the same ids, as a sender retrying (default 1)
  --unique                make each repetition a new delivery (new ids), for load
  --concurrency <n>       deliveries in flight at once (default 1)`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: "string" },
    "github-secret": { type: "string" },
    "slack-secret": { type: "string" },
    "events-secret": { type: "string" },
    repeat: { type: "string", default: "1" },
    unique: { type: "boolean", default: false },
    concurrency: { type: "string", default: "1" },
    help: { type: "boolean", default: false },
  },
});

const repeat = Number(values.repeat);
const concurrency = Number(values.concurrency);
if (values.help || positionals.length === 0 || !(repeat >= 1) || !(concurrency >= 1)) {
  console.error(USAGE);
  process.exit(values.help ? 0 : 2);
}

const url = values.url ?? process.env.CONVEX_SITE_ORIGIN ?? "http://127.0.0.1:3211";
const results = await send(
  loadFixtures(positionals),
  {
    url,
    secrets: {
      github: values["github-secret"] ?? process.env[SECRET_VARIABLES.github],
      slack: values["slack-secret"] ?? process.env[SECRET_VARIABLES.slack],
      events: values["events-secret"] ?? process.env[SECRET_VARIABLES.events],
    },
    repeat,
    unique: values.unique,
    concurrency,
  },
  (result) => console.log(formatResult(result)),
).catch((error: Error) => {
  console.error(`send: ${error.message}`);
  process.exit(2);
});
console.log(summarize(results));
process.exit(results.some(isRejected) ? 1 : 0);
