/**
 * Deliveries that arrive shuffled and duplicated leave the state they leave
 * in order.
 * A property (fast-check): it prints its seed and number of runs; rerun a
 * failure with FC_SEED=<seed> (FC_NUM_RUNS for more runs).
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { api } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import { newBackend, type Backend } from "../../helpers/backend";
import { asService } from "../../helpers/callers";
import { linkAdded, messageCreated, postEvent, statusChanged, type EventEnvelope } from "../../helpers/senders/events";
import { newSession, newWorkOrder, statusHistory } from "../../helpers/records";
import { withEverySenderConfigured } from "../../helpers/senders/all";
import { settle } from "../../helpers/clock";
import { check, runs } from "../../helpers/fastCheck";

withEverySenderConfigured();

describe("deliveries shuffled and duplicated leave the state they leave in order", () => {
  const STATUS_PATH = ["accepted", "running"] as const;
  const TERMINAL = ["succeeded", "failed", "canceled"] as const;
  const LINKS = [
    ["pr", "https://github.com/acme/api/pull/12"],
    ["pr", "https://github.com/acme/api/pull/13"],
    ["github_issue", "https://github.com/acme/api/issues/7"],
    ["commit", "0123456789abcdef0123456789abcdef01234567"],
    ["commit", "fedcba9876543210fedcba9876543210fedcba98"],
  ] as const;

  /** What one workflow runner reports for one order: a forward path of statuses, links, messages. */
  const life = fc.record({
    statuses: fc.subarray([...STATUS_PATH]),
    terminal: fc.option(fc.constantFrom(...TERMINAL), { nil: undefined }),
    links: fc.subarray([...LINKS.keys()]),
    messages: fc.array(fc.string({ minLength: 1, maxLength: 30 }).filter((text) => text.trim().length > 0), { maxLength: 3 }),
  });

  type Sent = { id: string; event: EventEnvelope };
  type Life = { statuses: string[]; terminal?: string; links: number[]; messages: string[] };

  async function arrange(t: Backend) {
    const sessionId = await newSession(t, "alice");
    const orders = [await newWorkOrder(t, sessionId), await newWorkOrder(t, sessionId)];
    return { sessionId, orders };
  }

  function eventsOf(lives: Life[], sessionId: Id<"chat_sessions">, orders: Id<"work_orders">[]): Sent[] {
    const sent: Sent[] = [];
    lives.forEach((one, i) => {
      for (const status of [...one.statuses, ...(one.terminal ? [one.terminal] : [])]) {
        sent.push({ id: `msg_${i}_status_${status}`, event: statusChanged(orders[i], status, `runner says ${status}`) });
      }
      for (const link of one.links) {
        sent.push({ id: `msg_${i}_link_${link}`, event: linkAdded(orders[i], LINKS[link][0], LINKS[link][1]) });
      }
      one.messages.forEach((content, m) => {
        sent.push({ id: `msg_${i}_message_${m}`, event: messageCreated(sessionId, { role: "assistant", content }) });
      });
    });
    return sent;
  }

  async function finalState(t: Backend, sessionId: Id<"chat_sessions">, orders: Id<"work_orders">[]) {
    const service = asService(t);
    const messages = await service.query(api.chatMessages.listBySession, { sessionId, paginationOpts: { numItems: 100, cursor: null } });
    return {
      orders: await Promise.all(
        orders.map(async (workOrderId) => {
          const order = (await service.query(api.workOrders.get, { workOrderId }))!;
          return { status: order.status, links: order.links.map((link) => `${link.kind} ${link.value}`).sort() };
        }),
      ),
      messages: messages.page.map((message) => message.content).sort(),
    };
  }

  const RANK: Record<string, number> = { submitted: 1, accepted: 2, running: 3, succeeded: 4, failed: 4, canceled: 4 };

  test("same statuses, each link once, messages once, statuses only forward", async () => {
    await check(
      "shuffled deliveries",
      fc.asyncProperty(
        fc.tuple(life, life),
        fc.array(fc.nat(), { minLength: 1, maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        async (lives, order, duplicates) => {
          const inOrder = newBackend();
          const a = await arrange(inOrder);
          for (const { id, event } of eventsOf(lives, a.sessionId, a.orders)) {
            await postEvent(inOrder, { id, event });
            await settle(inOrder);
          }

          const shuffled = newBackend();
          const b = await arrange(shuffled);
          const sent = eventsOf(lives, b.sessionId, b.orders);
          // A permutation driven by `order`, then some deliveries sent again with their ids.
          const pending = [...sent];
          const sequence: Sent[] = [];
          for (let i = 0; pending.length > 0; i += 1) {
            sequence.push(pending.splice(order[i % order.length] % pending.length, 1)[0]);
          }
          for (const pick of duplicates) {
            if (sent.length > 0) sequence.splice(pick % (sequence.length + 1), 0, sent[pick % sent.length]);
          }
          // Processing runs now and then, so that some duplicates find their first copy processed and some not.
          for (const [i, { id, event }] of sequence.entries()) {
            const response = await postEvent(shuffled, { id, event });
            expect(["accepted", "duplicate"]).toContain(response.body.status);
            if (order[i % order.length] % 3 === 0) await settle(shuffled);
          }
          await settle(shuffled);

          expect(await finalState(shuffled, b.sessionId, b.orders)).toEqual(await finalState(inOrder, a.sessionId, a.orders));
          for (const workOrderId of b.orders) {
            const ranks = (await statusHistory(shuffled, workOrderId)).map((change) => RANK[change.to]);
            expect(ranks).toEqual([...ranks].sort((x, y) => x - y));
            expect(new Set(ranks.slice(1)).size).toBe(ranks.length - 1);
          }
        },
      ),
      runs(25),
    );
  });
});
