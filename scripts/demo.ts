// `npm run demo`: a work order's whole journey, offline and in-process, on
// this repository's Convex functions (scripts/lib/demo/journey.ts).
import { convexTest } from "convex-test";
import schema from "../convex/schema";
import { isEntry, runTool, terminal, type Io } from "./lib/cli";
import { formatStep, runDemo, type DemoResult } from "./lib/demo/journey";
import { convexModules } from "./lib/modules";

export { convexModules };

export async function main(args: string[], _env: unknown, io: Io): Promise<number> {
  if (args.length > 0) {
    throw new Error(`npm run demo takes no arguments (got ${JSON.stringify(args[0])}).`);
  }
  io.out("A work order's journey, offline: this repository's Convex functions on an embedded backend (convex-test), with fake");
  io.out("Slack, Temporal and GitHub APIs and a fake Jangar server that receives events out and replies. Every request is signed as its sender signs it; nothing leaves this process.");
  io.out("");
  const started = performance.now();
  const t = convexTest({ schema, modules: convexModules(), transactionLimits: true });
  let index = 0;
  const result: DemoResult = await runDemo(t, (step) => formatStep(step, index++).forEach((line) => io.out(line)));
  const thread = result.slack.messages;
  if (thread.length > 0) {
    io.out("The Slack thread, as its people see it:");
    thread.forEach((message) => io.out(`    ${message.ts}${message.edits ? ` (edited ${message.edits}x)` : ""}  ${message.text.split("\n")[0]}`));
    io.out("");
  }
  if (result.github.comments.length > 0) {
    io.out("The pull request's conversation, as GitHub shows the App's part of it:");
    result.github.reactions.forEach((reaction) => io.out(`    :${reaction.content}: on ${reaction.subject.replace("_", " ")} ${reaction.subjectId}`));
    result.github.comments.forEach((comment) => io.out(`    ${comment.user.login}: ${comment.body.split("\n")[0]}`));
    io.out("");
  }
  io.out(`The order's history: ${result.history.join(" → ")}.`);
  io.out(`Done in ${((performance.now() - started) / 1000).toFixed(1)} s, without network. Next: npm run dev for a real deployment (README.md), npm test for the whole suite.`);
  return 0;
}

if (isEntry(import.meta.url)) {
  process.exit(await runTool("demo", () => main(process.argv.slice(2), {}, terminal)));
}
