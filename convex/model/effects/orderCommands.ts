import { canonicalLinkValue } from "../../../src/workOrders/links";
import { changeStatus } from "../workOrders/status";
import { budget } from "../platform/budget";
import { STATUS_CHANGE_COST } from "./budget";
import { planLink } from "./linkPlan";
import { orderOf, ordersOf } from "./selectors";
import { unit, type Handlers } from "./units";

/*
 * The commands that act on the orders their selectors reached: a unit of
 * work per order, so that a command reaching a crowd of orders is spread
 * over as many transactions as it needs.
 */
export const orderCommands: Pick<Handlers, "addLink" | "changeStatus"> = {
  addLink: {
    units: "perOrder",
    // Planned in every transaction of the delivery (the links are written last); noted once.
    apply: async (run, command) => {
      const value = canonicalLinkValue(command.link.kind, command.link.value);
      const noted = await unit(run, budget({}));
      if (!value.ok) {
        if (noted) {
          run.applied.skip(`${command.link.kind} link not added: ${value.message}`);
        }
        return;
      }
      for (const workOrderId of ordersOf(run.found, command.workOrders)) {
        planLink(run.linkPlan, workOrderId, { kind: command.link.kind, value: value.value });
      }
    },
  },
  changeStatus: {
    units: "perOrder",
    apply: async (run, command) => {
      for (const workOrderId of ordersOf(run.found, command.workOrders)) {
        const order = (await unit(run, STATUS_CHANGE_COST)) ? await orderOf(run.ctx, run.found, workOrderId) : null;
        if (order === null) {
          continue;
        }
        if (command.leavesDrafts === true && order.status === "draft") {
          run.applied.skip(`Work order ${workOrderId} is a draft: the merged pull request is linked to it, and it stays a draft.`);
          continue;
        }
        const outcome = await changeStatus(run.ctx, order, {
          to: command.to,
          source: run.origin.source,
          actorKind: "service",
          actor: run.origin.actor,
          reason: command.reason,
        });
        if (outcome.kind === "changed") {
          run.statusChanged.add(workOrderId);
          // What later units of this transaction read of the order is what it now is.
          run.found.orders.set(workOrderId, { ...order, status: command.to, updatedAt: Date.now() });
          run.applied.touch("work_orders", workOrderId, `status ${order.status} -> ${command.to}`);
        } else if (outcome.kind === "refused") {
          run.applied.skip(`Work order ${workOrderId}: status ${command.to} not applied: ${outcome.message}`);
        }
      }
    },
  },
};
