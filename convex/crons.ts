import { cronJobs } from "convex/server";
import { internal } from "./_generated/api";

const crons = cronJobs();

// Reconciles stale work orders with Temporal (or fails them without it) and relaunches submitted ones.
crons.interval("reconcile work orders", { minutes: 5 }, internal.reconcile.sweep, {});

// Lost runs, found the same way (convex/model/platform/scheduling.ts): deliveries whose scheduled processing was
// lost are run again; outbox lanes whose runner was lost get a new one.
crons.interval("recover lost deliveries", { minutes: 5 }, internal.inbox.maintenance.recoverLost, {});
crons.interval("recover lost outbox runners", { minutes: 5 }, internal.outbox.maintenance.recoverLost, {});

// Operator alerts (docs/operations.md#alerts): the oldest failure past an hour or a day, orders failed since the last alert.
crons.interval("check alerts", { minutes: 5 }, internal.alerts.check, {});

// GitHub deliveries of the last 3 days that were not answered 2xx and never reached the inbox, redelivered once
// (docs/operations.md#github-deliveries-redelivered); nothing without the GitHub App's settings.
crons.interval("redeliver missed GitHub deliveries", { minutes: 15 }, internal.inbox.githubRedeliveries.sweep, {});

// Deletes finished deliveries older than DELIVERY_RETENTION_DAYS, then drops finished deliveries' bodies older than
// DELIVERY_BODY_RETENTION_DAYS, in batches: hourly, so that each run's chain has an hour of deliveries to do.
crons.hourly("purge expired deliveries", { minuteUTC: 17 }, internal.inbox.maintenance.purgeExpired, {});

// Deletes outbox rows sent longer than DELIVERY_RETENTION_DAYS ago, in batches.
crons.daily("purge sent outbox rows", { hourUTC: 3, minuteUTC: 47 }, internal.outbox.maintenance.purgeSent, {});

// Deletes events written longer than DELIVERY_RETENTION_DAYS ago (events:list reads them until then), in batches.
crons.daily("purge expired events", { hourUTC: 4, minuteUTC: 7 }, internal.events.purgeExpired, {});

export default crons;
