import { cronJobs } from "convex/server";
import { internal } from "./_generated/api";

const crons = cronJobs();

// Runs again deliveries whose scheduled processing was lost.
crons.interval("recover lost deliveries", { minutes: 5 }, internal.ingest.recoverLost, {});

// Deletes deliveries older than DELIVERY_RETENTION_DAYS, in batches.
crons.daily("purge expired deliveries", { hourUTC: 3, minuteUTC: 17 }, internal.ingest.purgeExpired, {});

export default crons;
