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
import type * as alerts from "../alerts.js";
import type * as chatMessages from "../chatMessages.js";
import type * as chatSessions from "../chatSessions.js";
import type * as crons from "../crons.js";
import type * as doctor from "../doctor.js";
import type * as events from "../events.js";
import type * as http from "../http.js";
import type * as inbox_githubRedeliveries from "../inbox/githubRedeliveries.js";
import type * as inbox_maintenance from "../inbox/maintenance.js";
import type * as inbox_process from "../inbox/process.js";
import type * as inbox_receive from "../inbox/receive.js";
import type * as inbox_resume from "../inbox/resume.js";
import type * as ingest from "../ingest.js";
import type * as launcher from "../launcher.js";
import type * as migrations from "../migrations.js";
import type * as model_alerts_notice from "../model/alerts/notice.js";
import type * as model_alerts_tables from "../model/alerts/tables.js";
import type * as model_chat_messages from "../model/chat/messages.js";
import type * as model_chat_origins from "../model/chat/origins.js";
import type * as model_chat_sessions from "../model/chat/sessions.js";
import type * as model_effects_applyCommands from "../model/effects/applyCommands.js";
import type * as model_effects_budget from "../model/effects/budget.js";
import type * as model_effects_githubCommands from "../model/effects/githubCommands.js";
import type * as model_effects_linkPlan from "../model/effects/linkPlan.js";
import type * as model_effects_messageCommands from "../model/effects/messageCommands.js";
import type * as model_effects_orderCommands from "../model/effects/orderCommands.js";
import type * as model_effects_personCommands from "../model/effects/personCommands.js";
import type * as model_effects_report from "../model/effects/report.js";
import type * as model_effects_selectors from "../model/effects/selectors.js";
import type * as model_effects_units from "../model/effects/units.js";
import type * as model_events_record from "../model/events/record.js";
import type * as model_events_requests from "../model/events/requests.js";
import type * as model_events_tables from "../model/events/tables.js";
import type * as model_github_checkRuns from "../model/github/checkRuns.js";
import type * as model_github_installations from "../model/github/installations.js";
import type * as model_github_outbound from "../model/github/outbound.js";
import type * as model_github_requests from "../model/github/requests.js";
import type * as model_github_tables from "../model/github/tables.js";
import type * as model_github_threads from "../model/github/threads.js";
import type * as model_inbox_applyDelivery from "../model/inbox/applyDelivery.js";
import type * as model_inbox_attempts from "../model/inbox/attempts.js";
import type * as model_inbox_bodies from "../model/inbox/bodies.js";
import type * as model_inbox_deliveries from "../model/inbox/deliveries.js";
import type * as model_inbox_pauses from "../model/inbox/pauses.js";
import type * as model_inbox_tables from "../model/inbox/tables.js";
import type * as model_platform_batches from "../model/platform/batches.js";
import type * as model_platform_budget from "../model/platform/budget.js";
import type * as model_platform_callers from "../model/platform/callers.js";
import type * as model_platform_config from "../model/platform/config.js";
import type * as model_platform_cost from "../model/platform/cost.js";
import type * as model_platform_counters from "../model/platform/counters.js";
import type * as model_platform_errors from "../model/platform/errors.js";
import type * as model_platform_pages from "../model/platform/pages.js";
import type * as model_platform_scheduling from "../model/platform/scheduling.js";
import type * as model_platform_validators from "../model/platform/validators.js";
import type * as model_slack_cards from "../model/slack/cards.js";
import type * as model_slack_replies from "../model/slack/replies.js";
import type * as model_slack_requests from "../model/slack/requests.js";
import type * as model_slack_tables from "../model/slack/tables.js";
import type * as model_slack_threads from "../model/slack/threads.js";
import type * as model_workOrders_addLinks from "../model/workOrders/addLinks.js";
import type * as model_workOrders_args from "../model/workOrders/args.js";
import type * as model_workOrders_join from "../model/workOrders/join.js";
import type * as model_workOrders_launchInput from "../model/workOrders/launchInput.js";
import type * as model_workOrders_linkCounts from "../model/workOrders/linkCounts.js";
import type * as model_workOrders_links from "../model/workOrders/links.js";
import type * as model_workOrders_liveIndex from "../model/workOrders/liveIndex.js";
import type * as model_workOrders_orders from "../model/workOrders/orders.js";
import type * as model_workOrders_retries from "../model/workOrders/retries.js";
import type * as model_workOrders_shapes from "../model/workOrders/shapes.js";
import type * as model_workOrders_shown from "../model/workOrders/shown.js";
import type * as model_workOrders_status from "../model/workOrders/status.js";
import type * as model_workOrders_tables from "../model/workOrders/tables.js";
import type * as model_workOrders_targets from "../model/workOrders/targets.js";
import type * as model_workOrders_updatedAt from "../model/workOrders/updatedAt.js";
import type * as model_workOrders_workflow from "../model/workOrders/workflow.js";
import type * as outbox from "../outbox.js";
import type * as outbox_destination from "../outbox/destination.js";
import type * as outbox_destinations_events from "../outbox/destinations/events.js";
import type * as outbox_destinations_github from "../outbox/destinations/github.js";
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
  alerts: typeof alerts;
  chatMessages: typeof chatMessages;
  chatSessions: typeof chatSessions;
  crons: typeof crons;
  doctor: typeof doctor;
  events: typeof events;
  http: typeof http;
  "inbox/githubRedeliveries": typeof inbox_githubRedeliveries;
  "inbox/maintenance": typeof inbox_maintenance;
  "inbox/process": typeof inbox_process;
  "inbox/receive": typeof inbox_receive;
  "inbox/resume": typeof inbox_resume;
  ingest: typeof ingest;
  launcher: typeof launcher;
  migrations: typeof migrations;
  "model/alerts/notice": typeof model_alerts_notice;
  "model/alerts/tables": typeof model_alerts_tables;
  "model/chat/messages": typeof model_chat_messages;
  "model/chat/origins": typeof model_chat_origins;
  "model/chat/sessions": typeof model_chat_sessions;
  "model/effects/applyCommands": typeof model_effects_applyCommands;
  "model/effects/budget": typeof model_effects_budget;
  "model/effects/githubCommands": typeof model_effects_githubCommands;
  "model/effects/linkPlan": typeof model_effects_linkPlan;
  "model/effects/messageCommands": typeof model_effects_messageCommands;
  "model/effects/orderCommands": typeof model_effects_orderCommands;
  "model/effects/personCommands": typeof model_effects_personCommands;
  "model/effects/report": typeof model_effects_report;
  "model/effects/selectors": typeof model_effects_selectors;
  "model/effects/units": typeof model_effects_units;
  "model/events/record": typeof model_events_record;
  "model/events/requests": typeof model_events_requests;
  "model/events/tables": typeof model_events_tables;
  "model/github/checkRuns": typeof model_github_checkRuns;
  "model/github/installations": typeof model_github_installations;
  "model/github/outbound": typeof model_github_outbound;
  "model/github/requests": typeof model_github_requests;
  "model/github/tables": typeof model_github_tables;
  "model/github/threads": typeof model_github_threads;
  "model/inbox/applyDelivery": typeof model_inbox_applyDelivery;
  "model/inbox/attempts": typeof model_inbox_attempts;
  "model/inbox/bodies": typeof model_inbox_bodies;
  "model/inbox/deliveries": typeof model_inbox_deliveries;
  "model/inbox/pauses": typeof model_inbox_pauses;
  "model/inbox/tables": typeof model_inbox_tables;
  "model/platform/batches": typeof model_platform_batches;
  "model/platform/budget": typeof model_platform_budget;
  "model/platform/callers": typeof model_platform_callers;
  "model/platform/config": typeof model_platform_config;
  "model/platform/cost": typeof model_platform_cost;
  "model/platform/counters": typeof model_platform_counters;
  "model/platform/errors": typeof model_platform_errors;
  "model/platform/pages": typeof model_platform_pages;
  "model/platform/scheduling": typeof model_platform_scheduling;
  "model/platform/validators": typeof model_platform_validators;
  "model/slack/cards": typeof model_slack_cards;
  "model/slack/replies": typeof model_slack_replies;
  "model/slack/requests": typeof model_slack_requests;
  "model/slack/tables": typeof model_slack_tables;
  "model/slack/threads": typeof model_slack_threads;
  "model/workOrders/addLinks": typeof model_workOrders_addLinks;
  "model/workOrders/args": typeof model_workOrders_args;
  "model/workOrders/join": typeof model_workOrders_join;
  "model/workOrders/launchInput": typeof model_workOrders_launchInput;
  "model/workOrders/linkCounts": typeof model_workOrders_linkCounts;
  "model/workOrders/links": typeof model_workOrders_links;
  "model/workOrders/liveIndex": typeof model_workOrders_liveIndex;
  "model/workOrders/orders": typeof model_workOrders_orders;
  "model/workOrders/retries": typeof model_workOrders_retries;
  "model/workOrders/shapes": typeof model_workOrders_shapes;
  "model/workOrders/shown": typeof model_workOrders_shown;
  "model/workOrders/status": typeof model_workOrders_status;
  "model/workOrders/tables": typeof model_workOrders_tables;
  "model/workOrders/targets": typeof model_workOrders_targets;
  "model/workOrders/updatedAt": typeof model_workOrders_updatedAt;
  "model/workOrders/workflow": typeof model_workOrders_workflow;
  outbox: typeof outbox;
  "outbox/destination": typeof outbox_destination;
  "outbox/destinations/events": typeof outbox_destinations_events;
  "outbox/destinations/github": typeof outbox_destinations_github;
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
