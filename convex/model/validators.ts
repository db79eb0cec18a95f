import { literals } from "convex-helpers/validators";
import { CHAT_ROLES } from "../../src/chat/roles";
import { LINK_KINDS } from "../../src/workOrders/links";
import { STATUS_SOURCES, WORK_ORDER_STATUSES } from "../../src/workOrders/status";

export const vWorkOrderStatus = literals(...WORK_ORDER_STATUSES);
export const vStatusSource = literals(...STATUS_SOURCES);
export const vChatRole = literals(...CHAT_ROLES);
export const vLinkKind = literals(...LINK_KINDS);
