// @vitest-environment node
import { describe, expect, test } from "vitest";
import { api } from "../convex/_generated/api";
import { convexModules } from "../scripts/demo";
import { DEMO_SETTINGS, runDemo } from "../scripts/lib/demo/journey";
import { modulesUnderTest, newBackend } from "./helpers/backend";
import { asService } from "./helpers/callers";
import { runScript } from "./helpers/scripts";

describe("npm run demo: a work order's journey, offline", () => {
  test("a Slack mention, a work order launched on Temporal, a runner's event, a push and a merged pull request: the order succeeds, and its card says so; a pull-request comment to the App is answered there", async () => {
    const fetchBefore = globalThis.fetch;
    const t = newBackend();
    const { steps: all, history, workOrderId, temporal, slack, github, jangar } = await runDemo(t);

    // The loop: the mention reaches Jangar's server as a signed event, verified; its reply reaches the thread.
    expect(all[0].calls).toEqual(["Jangar's server POST /events chat.message.created → 204"]);
    expect(all[1]).toMatchObject({ actor: "Jangar's server", request: "chatMessages:append (the service client, connectHttp)" });
    expect(all[1].calls).toEqual([expect.stringMatching(/^Slack POST \/api\/chat.postMessage → 200 \{"ok":true/)]);
    expect(slack.messages[0].text).toBe("On it: I'll open a work order for the login page.");
    // Every change but the server's own calls reached it, each verified with svix.
    expect(jangar.calls.map(({ event, verifiedBy }) => [event?.type, event !== undefined && "source" in event.data ? event.data.source : null, verifiedBy])).toEqual([
      ["chat.message.created", "slack", [0]],
      ["work_order.status.changed", "reconcile", [0]],
      ["work_order.status.changed", "events", [0]],
      ["work_order.link.added", "github", [0]],
      ["work_order.link.added", "github", [0]],
      ["work_order.status.changed", "github", [0]],
      ["work_order.link.added", "github", [0]],
      ["chat.message.created", "github", [0]],
    ]);
    expect(jangar.violations).toEqual([]);
    const steps = [all[0], ...all.slice(2)];

    expect(steps.map((step) => `${step.actor} → ${step.request}`)).toEqual([
      "Slack → POST /webhooks/slack",
      "Jangar's server → workOrders:create (as a service)",
      "Convex → reconcile:launch, the action the create scheduled",
      "Workflow runner → POST /webhooks/events",
      "GitHub → POST /webhooks/github",
      "GitHub → POST /webhooks/github",
      "GitHub → POST /webhooks/github",
      "Slack → POST /webhooks/slack",
      "Convex → outbox/destinations/slack:sendNext, the channel's runner",
      "Jangar's server → workOrders:get",
      "GitHub → POST /webhooks/github",
      "Jangar's server → chatMessages:append (as a service, role assistant)",
    ]);
    // Every webhook is verified and accepted, and each step says what it wrote and where the order stands.
    for (const index of [0, 3, 4, 5, 6, 10]) {
      expect(steps[index].answer).toMatch(/^200 \{"status":"accepted","delivery":/);
      expect(steps[index].records).toMatch(/webhook_deliveries \+1/);
    }
    expect(steps[0].records).toMatch(/chat_sessions \+1.*slack_threads \+1/);
    expect(steps[0].status).toBe('session "the login page 500s after deploy, can you look?" of slack:T0ACME:U01ALICE, 1 message(s)');
    expect(steps.slice(1).map((step) => /: (\w+)/.exec(step.status)?.[1])).toEqual([
      "submitted",
      "accepted",
      "running",
      "running",
      "running",
      "succeeded",
      "succeeded",
      "succeeded",
      "succeeded",
      "succeeded",
      "succeeded",
    ]);
    // Alice's slash command is answered in its reply, and recorded as a delivery.
    expect(steps[7].answer).toMatch(/^200 \{"response_type":"ephemeral","text":"Your work order:\\n• \*Fix the login page 500\* · :white_check_mark: Succeeded/);
    expect(steps[7].records).toMatch(/webhook_deliveries \+1/);
    expect(steps[9].records).toBe("nothing");

    // The thread has one card, edited in place until it shows the order succeeded with its pull request, and the answer.
    expect(slack.messages.map((message) => message.text)).toEqual([
      "On it: I'll open a work order for the login page.",
      "Work order Fix the login page 500: succeeded · PR <https://github.com/codertocat/hello-world/pull/2|codertocat/hello-world#2>",
      "Done: the README uses the :tada: shortcode now.",
    ]);

    // The review comment on the pull request reached Alice's session (the order's), got its eyes, and the answer is a comment there.
    expect(steps[10].records).toMatch(/chat_messages \+1.*github_threads \+1/);
    expect(github.reactions).toMatchObject([{ subject: "review_comment", subjectId: 284312630, content: "eyes" }]);
    expect(github.comments.map((comment) => [comment.number, comment.user.login, comment.body.split("\n")[0]])).toEqual([
      [2, "jangar[bot]", "Done: the README uses the :tada: shortcode now."],
    ]);
    expect(steps.flatMap((step) => step.calls).join("\n")).not.toMatch(/ghs_/);

    // The launch is the one call to Temporal, answered as Temporal answers it.
    expect(steps.flatMap((step) => step.calls).filter((call) => call.startsWith("Temporal"))).toEqual([
      expect.stringMatching(new RegExp(`^Temporal POST /api/v1/namespaces/jangar/workflows/${workOrderId} → 200 \\{"runId"`)),
    ]);
    expect(temporal.executions.get(workOrderId)).toMatchObject({
      workflowType: "codex-implement",
      taskQueue: "codex",
      input: {
        workOrderId,
        prompt: "the login page 500s after deploy, can you look?",
        args: [{ name: "slackThread", value: "C0AB1/1747213923.482109" }],
        target: { targetRepo: "codertocat/hello-world", targetBranch: "changes" },
      },
    });

    expect(history).toEqual(["submitted (api)", "accepted (reconcile)", "running (events)", "succeeded (github)"]);
    // Every request the deployment made was one the real services take.
    expect([...temporal.violations, ...slack.violations, ...github.violations]).toEqual([]);
    const order = await asService(t).query(api.workOrders.get, { workOrderId });
    expect(order?.links).toEqual([
      { kind: "commit", value: "6113728f27ae82c7b1a177c8d03f9e96e0adf246" },
      { kind: "pr", value: "https://github.com/codertocat/hello-world/pull/2" },
      { kind: "commit", value: "c4295bd74fb0f4d1f2a0d6a0ff3b5b1f7c6d2a91" },
    ]);

    // The demo's settings and fake APIs are gone once it is over.
    expect(globalThis.fetch).toBe(fetchBefore);
    expect(process.env.TEMPORAL_HTTP_URL).toBeUndefined();
    expect(process.env.SLACK_BOT_TOKEN).toBeUndefined();
    expect(process.env.GITHUB_WEBHOOK_SECRET).not.toBe(DEMO_SETTINGS.GITHUB_WEBHOOK_SECRET);
  });

  test("outside vitest the modules are listed explicitly: every function module and the generated api, no type declarations", () => {
    const modules = Object.keys(convexModules());
    expect(modules).toEqual(expect.arrayContaining(["./convex/_generated/api.js", "./convex/http.ts", "./convex/schema.ts", "./convex/inbox/receive.ts"]));
    expect(modules.filter((path) => path.endsWith(".d.ts"))).toEqual([]);
  });

  // The script itself, as npm runs it (the same in both runs of the suite, so once).
  test.skipIf(modulesUnderTest === "bundle")("run as a script, it prints the timeline and ends with the order's history, in seconds", async () => {
    const started = Date.now();
    const run = await runScript("demo.ts", []);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^ 1 {2}Slack → POST \/webhooks\/slack$/m);
    expect(run.stdout).toMatch(/^ 2 {2}Jangar's server → chatMessages:append \(the service client, connectHttp\)$/m);
    expect(run.stdout).toMatch(/^11 {2}Jangar's server → workOrders:get$/m);
    expect(run.stdout).toMatch(/\d{6}(?: \(edited \dx\))? {2}On it: I'll open a work order for the login page\.\n.*\d{6}(?: \(edited \dx\))? {2}Work order Fix the login page 500: succeeded/);
    expect(run.stdout).toMatch(/^ {4}jangar\[bot\]: Done: the README uses the :tada: shortcode now\.$/m);
    expect(run.stdout).toMatch(/The order's history: submitted \(api\) → accepted \(reconcile\) → running \(events\) → succeeded \(github\)\./);
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
