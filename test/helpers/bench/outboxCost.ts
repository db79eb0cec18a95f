import { beforeEach, vi } from "vitest";
import { OUTBOX_STATUSES } from "../../../convex/outbox/tables";
import type { Backend } from "../backend";
import { settle } from "../clock";

/**
 * What a change and the outbox requests it queues cost, as the
 * transactions log it with JANGAR_LOG_COST (slackCost.test.ts,
 * eventsCost.test.ts):
 *
 *   const costsOf = outboxCosts("slack");            // in the file, beside withFakeClock()
 *   await seedCounterShards(t, "slack");
 *   const costs = await costsOf(t, "reply (chatMessages:append)", () => service.mutation(...));
 *   // [["reply (chatMessages:append)", {...}], ["  sending: claim reply", {...}], ["  sending: record reply", {...}]]
 */

export type Cost = { documentsRead: number; documentsWritten: number; bytesRead: number; bytesWritten: number };

/** Every counter shard of a destination, as on a deployment that has been sending for a while. */
export async function seedCounterShards(t: Backend, destination: string) {
  await t.run(async (ctx) => {
    for (const status of OUTBOX_STATUSES) {
      for (let shard = 0; shard < 16; shard += 1) {
        await ctx.db.insert("outbox_counters", { destination, status, shard, count: 0 });
      }
    }
  });
}

/**
 * Logs each transaction's cost in every test of the file, and gives
 * `costsOf`: the cost lines `work` and what it scheduled logged, the public
 * function's as `name`, the destination's sending steps as `  sending: <step>`.
 */
export function outboxCosts(destination: string) {
  let logged: string[] = [];
  beforeEach(() => {
    logged = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => void logged.push(String(line)));
    vi.stubEnv("JANGAR_LOG_COST", "1");
  });
  const stepLine = new RegExp(`^${destination}Outbox: (\\w+ \\w+) cost (\\{.*\\})$`);
  return async function costsOf(t: Backend, name: string, work: () => Promise<unknown>): Promise<[string, Cost][]> {
    logged = [];
    await work();
    await settle(t, 1000);
    return logged.flatMap((line): [string, Cost][] => {
      const call = /^cost (\{.*\})$/.exec(line);
      const step = stepLine.exec(line);
      return call ? [[name, JSON.parse(call[1]) as Cost]] : step ? [[`  sending: ${step[1]}`, JSON.parse(step[2]) as Cost]] : [];
    });
  };
}
