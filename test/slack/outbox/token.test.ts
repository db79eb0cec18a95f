import { describe, expect, test, vi } from "vitest";
import { newBackend } from "../../helpers/backend";
import { asService } from "../../helpers/callers";
import { snapshotTables } from "../../helpers/assertions";
import { newWorkOrder } from "../../helpers/records";
import { OUTBOX_ITERATIONS, settle } from "../../helpers/clock";
import { api, internal } from "../../../convex/_generated/api";
import { FAKE_SLACK_TOKEN } from "../../../fakes/slack";
import { CHANNEL, reply, slackThread, withSlackOutbox } from "../../helpers/slack/outbox";
import { outboxRows } from "../../helpers/outbox/rows";

/*
 * The Slack outbox and SLACK_BOT_TOKEN: nothing queued without it, a row
 * sent after it was removed failed and replayed once it is back, and the
 * token never stored or logged.
 */

const fake = withSlackOutbox();

describe("the bot token", () => {
  test("a row queued while the token was set, and sent after it was removed, fails with that reason and is replayed once it is back", async () => {
    const t = newBackend();
    const { sessionId, threadTs } = await slackThread(t);
    await reply(t, sessionId, "Done.");
    vi.stubEnv("SLACK_BOT_TOKEN", "");
    await settle(t, OUTBOX_ITERATIONS);
    expect(fake.slack.calls).toEqual([]);
    const [row] = await outboxRows(t);
    expect(row).toMatchObject({ status: "failed", error: "SLACK_BOT_TOKEN is not set on this deployment; set it, then replay the row." });
    vi.stubEnv("SLACK_BOT_TOKEN", FAKE_SLACK_TOKEN);
    expect(await t.mutation(internal.outbox.replayFailed, {})).toEqual([row._id]);
    await settle(t, OUTBOX_ITERATIONS);
    expect(fake.slack.thread(CHANNEL, threadTs).map((message) => message.text)).toEqual(["Done."]);
  });

  test("without SLACK_BOT_TOKEN nothing is posted or queued", async () => {
    vi.stubEnv("SLACK_BOT_TOKEN", "");
    const t = newBackend();
    const { sessionId } = await slackThread(t);
    await reply(t, sessionId, "Done.");
    const workOrderId = await newWorkOrder(t, sessionId);
    await asService(t).mutation(api.workOrders.updateStatus, { workOrderId, status: "accepted" });
    await asService(t).mutation(api.workOrderLinks.add, { workOrderId, kind: "pr", value: "https://github.com/acme/api/pull/12" });
    await settle(t, OUTBOX_ITERATIONS);
    expect(fake.slack.calls).toEqual([]);
    const tables = await snapshotTables(t);
    expect([tables.outbox, tables.slack_cards, tables.outbox_lanes, tables.outbox_tallies]).toEqual([[], [], [], []]);
  });

  test("the bot token is sent as a bearer token and never stored or logged", async () => {
    const logged: unknown[] = [];
    for (const level of ["log", "warn", "error", "info"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void logged.push(args));
    }
    const t = newBackend();
    const { sessionId } = await slackThread(t);
    fake.slack.answerNext("network", { error: "invalid_auth" });
    await reply(t, sessionId, "Done.");
    await newWorkOrder(t, sessionId);
    await settle(t, OUTBOX_ITERATIONS);
    expect(fake.slack.calls).toHaveLength(3);
    expect(JSON.stringify(await snapshotTables(t))).not.toContain(FAKE_SLACK_TOKEN);
    expect(JSON.stringify(logged)).not.toContain(FAKE_SLACK_TOKEN);
    vi.restoreAllMocks();
  });
});
