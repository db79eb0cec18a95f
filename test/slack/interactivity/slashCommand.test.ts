import { describe, expect, test, vi } from "vitest";
import { api } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import { newBackend } from "../../helpers/backend";
import { asService } from "../../helpers/callers";
import { literalSlackText, SLACK_MESSAGE_CHARS } from "../../../src/slack/text";
import { newSession, newWorkOrder, orderOf, statusHistory } from "../../helpers/records";
import { settle } from "../../helpers/clock";
import { ALICE, BOB, postSlackForm, slashCommand } from "../../helpers/senders/slack";
import { stored as storedDeliveries } from "../../helpers/inbox/deliveries";
import { CAROL, aliceThreadWithOrder, replayed, setStatus, slackUser, withSlackCards } from "../../helpers/slack/interactivity";

/*
 * The slash command, `/jangar status` and `/jangar cancel <id>`
 * (docs/contract.md#slack-interactivity-cancel-and-retry-on-the-card-and-a-slash-command):
 * the answer a person sees at once, within one Slack message, and what it
 * changes.
 */

const { fake, cardOf } = withSlackCards();

describe("the slash command", () => {
  const reply = (text: string | RegExp) => ({
    status: 200,
    body: { response_type: "ephemeral", text: typeof text === "string" ? text : expect.stringMatching(text) },
  });

  test("`status` (or nothing) lists the caller's 10 most recently updated orders, with status and pull request, read through an index", async () => {
    vi.stubEnv("SLACK_BOT_TOKEN", undefined);
    const t = newBackend();
    const sessionId = await newSession(t, slackUser(ALICE));
    const create = async (title: string, requestedBy: string) => {
      vi.advanceTimersByTime(1000);
      return await asService(t).mutation(api.workOrders.create, { sessionId, workflowType: "codex-implement", prompt: title, title, requestedBy });
    };
    const alices: Id<"work_orders">[] = [];
    for (let i = 1; i <= 12; i += 1) {
      alices.push(await create(`Alice's order ${i}`, slackUser(ALICE)));
    }
    // Others' orders in the same session: a scan would read them; the index does not. (More than one person may hold live.)
    vi.stubEnv("JANGAR_MAX_LIVE_ORDERS", "200");
    for (let i = 1; i <= 120; i += 1) {
      await create(`Bob's order ${i}`, slackUser(BOB));
    }
    // The oldest two move: the first fails, the second gains a pull request (its updatedAt moves too).
    vi.advanceTimersByTime(120_000);
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId: alices[0], status: "failed" });
    vi.advanceTimersByTime(120_000);
    await asService(t).mutation(api.workOrderLinks.add, { workOrderId: alices[1], kind: "pr", value: "https://github.com/acme/api/pull/7" });

    const listed = [
      `• *Alice's order 2* · :inbox_tray: Submitted · PR <https://github.com/acme/api/pull/7|acme/api#7> · \`${alices[1]}\``,
      `• *Alice's order 1* · :x: Failed · \`${alices[0]}\``,
      ...[12, 11, 10, 9, 8, 7, 6, 5].map((n) => `• *Alice's order ${n}* · :inbox_tray: Submitted · \`${alices[n - 1]}\``),
    ];
    const answer = ["Your 10 most recently updated work orders:", ...listed].join("\n");
    const asked = await postSlackForm(t, slashCommand("status"));
    expect(asked).toEqual(reply(answer));
    expect(await postSlackForm(t, slashCommand(""))).toEqual(reply(answer));
    expect(await postSlackForm(t, slashCommand("  STATUS  "))).toEqual(reply(answer));
    expect(await postSlackForm(t, slashCommand("status", { user: CAROL }))).toEqual(reply("You have not requested any work orders."));

    const [first] = (await storedDeliveries(t)).deliveries;
    expect(first).toMatchObject({ event: "slash_command", action: "/jangar", status: "processed", attempts: 1 });
    // 132 orders exist: the answer reads its 10 (and their pull requests) through the index, not the others.
    expect(first.cost!.documentsRead).toBeLessThan(30);
  });

  test("`status <id>` shows one order the caller may see; another's, or none, is not found", async () => {
    const t = newBackend();
    const { workOrderId } = await aliceThreadWithOrder(t);
    const bobsSession = await newSession(t, slackUser(BOB));
    const bobs = await newWorkOrder(t, bobsSession, { title: "Bob's" });
    expect(await postSlackForm(t, slashCommand(`status ${workOrderId}`))).toEqual(reply(`*SSO login* · :inbox_tray: Submitted · \`${workOrderId}\``));
    expect(await postSlackForm(t, slashCommand(`status ${bobs}`))).toEqual(reply(`No work order \`${bobs}\` that you may see.`));
    expect(await postSlackForm(t, slashCommand("status k57nothing"))).toEqual(reply("No work order `k57nothing` that you may see."));
  });

  test("`cancel <id>` acts as the Cancel button, and the reply says what came of it", async () => {
    const t = newBackend();
    const { workOrderId } = await aliceThreadWithOrder(t);
    const bobsSession = await newSession(t, slackUser(BOB));
    const bobs = await newWorkOrder(t, bobsSession, { title: "Bob's" });
    await setStatus(t, workOrderId, "running");

    expect(await postSlackForm(t, slashCommand(`cancel ${workOrderId}`))).toEqual(reply("Canceled *SSO login*."));
    // Applied before the answer: the order is canceled by the time Slack shows it.
    expect((await orderOf(t, workOrderId)).status).toBe("canceled");
    expect((await statusHistory(t, workOrderId)).at(-1)).toMatchObject({ to: "canceled", source: "slack", actor: slackUser(ALICE) });
    expect(await postSlackForm(t, slashCommand(`cancel ${workOrderId}`))).toEqual(reply("*SSO login* is already canceled."));
    expect(await postSlackForm(t, slashCommand(`cancel ${bobs}`))).toEqual(reply(`No work order \`${bobs}\` that you may see.`));
    expect((await orderOf(t, bobs)).status).toBe("submitted");
    await settle(t);
    expect(cardOf(workOrderId).text).toBe("Work order SSO login: canceled");
    // The answer was the reply: nothing is posted for the person alone.
    expect(fake.slack.ephemerals).toEqual([]);
    expect((await storedDeliveries(t)).deliveries.slice(-3).map((row) => row.status)).toEqual(["processed", "ignored", "ignored"]);
  });

  test("`cancel <id>` replayed by an operator after it worked stays processed with what it touched", async () => {
    const t = newBackend();
    const { workOrderId } = await aliceThreadWithOrder(t);
    expect(await postSlackForm(t, slashCommand(`cancel ${workOrderId}`))).toEqual(reply("Canceled *SSO login*."));
    const [command] = (await storedDeliveries(t)).deliveries.filter((row) => row.event === "slash_command");
    const { delivery, attempts } = await replayed(t, command._id);
    expect(delivery).toMatchObject({ status: "processed", touchedCount: 1, touched: command.touched });
    expect(attempts).toEqual(["processed", "replayed", "processed"]);
    expect(fake.slack.ephemerals).toEqual([]);
  });

  test("`status` stays within one Slack message (3,900 characters, as sent) whatever the titles and links: ten orders of hostile titles and pull requests", async () => {
    vi.stubEnv("SLACK_BOT_TOKEN", undefined);
    const t = newBackend();
    const sessionId = await newSession(t, slackUser(ALICE));
    const ids = [];
    for (let i = 0; i < 10; i += 1) {
      const workOrderId = await asService(t).mutation(api.workOrders.create, {
        sessionId, workflowType: "w", prompt: "p", title: `<!channel> ${"&".repeat(189)}`, requestedBy: slackUser(ALICE),
      });
      await asService(t).mutation(api.workOrderLinks.add, {
        workOrderId, kind: "pr", value: `https://github.com/${"&".repeat(39)}/${"&".repeat(90)}/pull/${i + 1}`,
      });
      ids.push(workOrderId);
    }
    const { status, body } = await postSlackForm(t, slashCommand("status"));
    const text = body.text as string;
    expect(status).toBe(200);
    expect(text.length).toBeLessThanOrEqual(SLACK_MESSAGE_CHARS);
    expect(text).not.toContain("<!channel>");
    // Every order is still there, with its status and id; only titles and links gave way.
    for (const workOrderId of ids) {
      expect(text).toContain(`:inbox_tray: Submitted · \`${workOrderId}\``);
    }
  });

  test("`status`: links are dropped before titles are shortened", async () => {
    vi.stubEnv("SLACK_BOT_TOKEN", undefined);
    const t = newBackend();
    const sessionId = await newSession(t, slackUser(ALICE));
    // Ten lines of an 80-character title (160 escaped) and a linked pull request would be about 3,950 characters.
    const title = (i: number) => `Order ${i} ${"& ".repeat(20)}${"x".repeat(80 - 48)}`;
    for (let i = 0; i < 10; i += 1) {
      const workOrderId = await asService(t).mutation(api.workOrders.create, { sessionId, workflowType: "w", prompt: "p", title: title(i), requestedBy: slackUser(ALICE) });
      await asService(t).mutation(api.workOrderLinks.add, { workOrderId, kind: "pr", value: `https://github.com/acme/${"r".repeat(60)}/pull/${i + 1}` });
    }
    const text = (await postSlackForm(t, slashCommand("status"))).body.text as string;
    expect(text.length).toBeLessThanOrEqual(SLACK_MESSAGE_CHARS);
    const label = (i: number) => `acme/${"r".repeat(60)}#${i + 1}`;
    // Every title whole; the lines that did not fit their share show their pull request by its label alone.
    const shown = text.split("\n").slice(1).map((line, i) => {
      const n = 9 - i;
      expect(line).toContain(`• *${literalSlackText(title(n))}* · :inbox_tray: Submitted · PR `);
      return line.includes(`PR ${label(n)}`) ? "label" : line.includes(`|${label(n)}>`) ? "link" : "neither";
    });
    expect(shown).toContain("label");
    expect(shown).not.toContain("neither");
  });

  test("`status <id>` shows a title's `*`, `_`, `~` and backticks as written (lookalikes Slack does not format), and words' inner underscores as they are", async () => {
    const t = newBackend();
    const { sessionId } = await aliceThreadWithOrder(t);
    const workOrderId = await newWorkOrder(t, sessionId, { title: "*Bold* _it_ ~gone~ `rm -rf` snake_case 2*3" });
    expect(await postSlackForm(t, slashCommand(`status ${workOrderId}`))).toEqual(
      reply(`*\u2217Bold\u2217 \u02CDit\u02CD \u223Cgone\u223C \u02CBrm -rf\u02CB snake_case 2*3* · :inbox_tray: Submitted · \`${workOrderId}\``),
    );
    await settle(t);
    expect(cardOf(workOrderId).text).toBe("Work order \u2217Bold\u2217 \u02CDit\u02CD \u223Cgone\u223C \u02CBrm -rf\u02CB snake_case 2*3: submitted");
  });

  test.each(["help", "cancel", "status one two", "retry k57abc", "frobnicate now"])("%j gets the usage text, and is recorded as ignored", async (text) => {
    const t = newBackend();
    const usage =
      "Usage: `/jangar status` lists the work orders you asked for, most recently updated first; `/jangar status <work order id>` shows one; `/jangar cancel <work order id>` cancels one.";
    expect(await postSlackForm(t, slashCommand(text))).toEqual(reply(usage));
    expect((await storedDeliveries(t)).deliveries).toMatchObject([{ event: "slash_command", status: "ignored", ignoredReason: usage }]);
  });

  test("the same command sent twice (one trigger_id) is applied once: the second answer says so", async () => {
    const t = newBackend();
    const { workOrderId } = await aliceThreadWithOrder(t);
    const command = slashCommand(`cancel ${workOrderId}`);
    expect(await postSlackForm(t, command)).toEqual(reply("Canceled *SSO login*."));
    expect(await postSlackForm(t, command)).toEqual(reply("This request was received before, and answered then; nothing was done again."));
    expect((await statusHistory(t, workOrderId)).map((change) => change.to)).toEqual(["submitted", "canceled"]);
    expect((await storedDeliveries(t)).deliveries.filter((row) => row.event === "slash_command")).toHaveLength(1);
  });

  test("a command that cannot be recorded is answered 503 and changes nothing: its effect and its record go together", async () => {
    vi.stubEnv("SLACK_BOT_TOKEN", undefined);
    // Enough to create the order (order, history row); not to record a delivery and cancel in one transaction.
    const t = newBackend({ documentsWritten: 4 });
    const sessionId = await newSession(t, slackUser(ALICE));
    const workOrderId = await newWorkOrder(t, sessionId);
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const response = await postSlackForm(t, slashCommand(`cancel ${workOrderId}`));
    logged.mockRestore();
    expect(response).toEqual({ status: 503, body: { error: expect.stringMatching(/could not be recorded/) } });
    expect((await orderOf(t, workOrderId)).status).toBe("submitted");
    expect(await storedDeliveries(t)).toEqual({ deliveries: [], bodies: [], blobs: [] });
  });
});
