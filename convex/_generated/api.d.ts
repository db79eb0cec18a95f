/* eslint-disable */
/**
 * Generated `api` utility.
 *
 * THIS CODE IS AUTOMATICALLY GENERATED.
 *
 * To regenerate, run `npx convex dev`.
 * @module
 */

import type {
  ApiFromModules,
  FilterApi,
  FunctionReference,
} from "convex/server";
import type * as chatMessages from "../chatMessages.js";
import type * as chatSessions from "../chatSessions.js";
import type * as crons from "../crons.js";
import type * as doctor from "../doctor.js";
import type * as http from "../http.js";
import type * as inbox_maintenance from "../inbox/maintenance.js";
import type * as inbox_process from "../inbox/process.js";
import type * as inbox_receive from "../inbox/receive.js";
import type * as inbox_resume from "../inbox/resume.js";
import type * as ingest from "../ingest.js";
import type * as launcher from "../launcher.js";
import type * as migrations from "../migrations.js";
import type * as model_applied from "../model/applied.js";
import type * as model_apply from "../model/apply.js";
import type * as model_args from "../model/args.js";
import type * as model_attempts from "../model/attempts.js";
import type * as model_batches from "../model/batches.js";
import type * as model_budget from "../model/budget.js";
import type * as model_callers from "../model/callers.js";
import type * as model_chatMessages from "../model/chatMessages.js";
import type * as model_chatSessions from "../model/chatSessions.js";
import type * as model_config from "../model/config.js";
import type * as model_correlation from "../model/correlation.js";
import type * as model_cost from "../model/cost.js";
import type * as model_counters from "../model/counters.js";
import type * as model_deliveries from "../model/deliveries.js";
import type * as model_errors from "../model/errors.js";
import type * as model_inbox_pauses from "../model/inbox/pauses.js";
import type * as model_launch from "../model/launch.js";
import type * as model_linkPlan from "../model/linkPlan.js";
import type * as model_links from "../model/links.js";
import type * as model_liveOrders from "../model/liveOrders.js";
import type * as model_messageOrigins from "../model/messageOrigins.js";
import type * as model_orderActions from "../model/orderActions.js";
import type * as model_pages from "../model/pages.js";
import type * as model_scheduling from "../model/scheduling.js";
import type * as model_slack_cards from "../model/slack/cards.js";
import type * as model_slack_replies from "../model/slack/replies.js";
import type * as model_slack_requests from "../model/slack/requests.js";
import type * as model_slack_tables from "../model/slack/tables.js";
import type * as model_slack_threads from "../model/slack/threads.js";
import type * as model_status from "../model/status.js";
import type * as model_targets from "../model/targets.js";
import type * as model_touch from "../model/touch.js";
import type * as model_validators from "../model/validators.js";
import type * as model_workOrders from "../model/workOrders.js";
import type * as outbox from "../outbox.js";
import type * as outbox_destination from "../outbox/destination.js";
import type * as outbox_destinations_slack from "../outbox/destinations/slack.js";
import type * as outbox_enqueue from "../outbox/enqueue.js";
import type * as outbox_lanes from "../outbox/lanes.js";
import type * as outbox_maintenance from "../outbox/maintenance.js";
import type * as outbox_registry from "../outbox/registry.js";
import type * as outbox_rows from "../outbox/rows.js";
import type * as outbox_runner from "../outbox/runner.js";
import type * as outbox_tables from "../outbox/tables.js";
import type * as reconcile from "../reconcile.js";
import type * as workOrderArgs from "../workOrderArgs.js";
import type * as workOrderLinks from "../workOrderLinks.js";
import type * as workOrderTargets from "../workOrderTargets.js";
import type * as workOrders from "../workOrders.js";

/**
 * A utility for referencing Convex functions in your app's API.
 *
 * Usage:
 * ```js
 * const myFunctionReference = api.myModule.myFunction;
 * ```
 */
declare const fullApi: ApiFromModules<{
  chatMessages: typeof chatMessages;
  chatSessions: typeof chatSessions;
  crons: typeof crons;
  doctor: typeof doctor;
  http: typeof http;
  "inbox/maintenance": typeof inbox_maintenance;
  "inbox/process": typeof inbox_process;
  "inbox/receive": typeof inbox_receive;
  "inbox/resume": typeof inbox_resume;
  ingest: typeof ingest;
  launcher: typeof launcher;
  migrations: typeof migrations;
  "model/applied": typeof model_applied;
  "model/apply": typeof model_apply;
  "model/args": typeof model_args;
  "model/attempts": typeof model_attempts;
  "model/batches": typeof model_batches;
  "model/budget": typeof model_budget;
  "model/callers": typeof model_callers;
  "model/chatMessages": typeof model_chatMessages;
  "model/chatSessions": typeof model_chatSessions;
  "model/config": typeof model_config;
  "model/correlation": typeof model_correlation;
  "model/cost": typeof model_cost;
  "model/counters": typeof model_counters;
  "model/deliveries": typeof model_deliveries;
  "model/errors": typeof model_errors;
  "model/inbox/pauses": typeof model_inbox_pauses;
  "model/launch": typeof model_launch;
  "model/linkPlan": typeof model_linkPlan;
  "model/links": typeof model_links;
  "model/liveOrders": typeof model_liveOrders;
  "model/messageOrigins": typeof model_messageOrigins;
  "model/orderActions": typeof model_orderActions;
  "model/pages": typeof model_pages;
  "model/scheduling": typeof model_scheduling;
  "model/slack/cards": typeof model_slack_cards;
  "model/slack/replies": typeof model_slack_replies;
  "model/slack/requests": typeof model_slack_requests;
  "model/slack/tables": typeof model_slack_tables;
  "model/slack/threads": typeof model_slack_threads;
  "model/status": typeof model_status;
  "model/targets": typeof model_targets;
  "model/touch": typeof model_touch;
  "model/validators": typeof model_validators;
  "model/workOrders": typeof model_workOrders;
  outbox: typeof outbox;
  "outbox/destination": typeof outbox_destination;
  "outbox/destinations/slack": typeof outbox_destinations_slack;
  "outbox/enqueue": typeof outbox_enqueue;
  "outbox/lanes": typeof outbox_lanes;
  "outbox/maintenance": typeof outbox_maintenance;
  "outbox/registry": typeof outbox_registry;
  "outbox/rows": typeof outbox_rows;
  "outbox/runner": typeof outbox_runner;
  "outbox/tables": typeof outbox_tables;
  reconcile: typeof reconcile;
  workOrderArgs: typeof workOrderArgs;
  workOrderLinks: typeof workOrderLinks;
  workOrderTargets: typeof workOrderTargets;
  workOrders: typeof workOrders;
}>;
export declare const api: FilterApi<
  typeof fullApi,
  FunctionReference<any, "public">
>;
export declare const internal: FilterApi<
  typeof fullApi,
  FunctionReference<any, "internal">
>;
