import { cronJobs } from "convex/server";
import { internal } from "./_generated/api";

const crons = cronJobs();

// Reconciles stale work orders with Temporal (or fails them without it) and relaunches submitted ones.
crons.interval("reconcile work orders", { minutes: 5 }, internal.reconcile.sweep, {});

// Runs again deliveries whose scheduled processing was lost.
crons.interval("recover lost deliveries", { minutes: 5 }, internal.inbox.maintenance.recoverLost, {});

// Deletes deliveries older than DELIVERY_RETENTION_DAYS, in batches.
crons.daily("purge expired deliveries", { hourUTC: 3, minuteUTC: 17 }, internal.inbox.maintenance.purgeExpired, {});

// Restarts the Slack outbox runners of channels whose scheduled run was lost.
crons.interval("recover lost Slack runners", { minutes: 5 }, internal.outbox.maintenance.recoverLost, {});

// Deletes Slack outbox rows sent longer than DELIVERY_RETENTION_DAYS ago, in batches.
crons.daily("purge sent Slack posts", { hourUTC: 3, minuteUTC: 47 }, internal.outbox.maintenance.purgeSent, {});

export default crons;
