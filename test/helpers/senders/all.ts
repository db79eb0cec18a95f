import { beforeEach, vi } from "vitest";
import { EVENTS_SECRET } from "./events";
import { withFakeClock } from "../clock";
import { SLACK_SECRET } from "./slack";

/**
 * For a test file that posts to every route: a fake clock (processing runs
 * when a test settles it) and the Slack and events secrets set (GitHub's is
 * set for the whole suite in setup.ts), undone after each test.
 */
export function withEverySenderConfigured() {
  withFakeClock();
  beforeEach(() => {
    vi.stubEnv("SLACK_SIGNING_SECRET", SLACK_SECRET);
    vi.stubEnv("EVENTS_WEBHOOK_SECRET", EVENTS_SECRET);
  });
}
