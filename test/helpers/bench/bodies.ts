import type { SourceName } from "../../../src/sources/source";

/*
 * Bodies of a given size shaped as each sender's largest real deliveries:
 * a push of 2,048 commits (GitHub's most) with long messages, a Slack
 * message holding a long paste, a runner's log event of 1,000 long lines.
 */

const LINE = "Refactor the session store so that SSO callbacks find their session again. ";

/** `count` items of `item(i, text)`, the texts padded so that the whole body is `bytes` long. */
function sized<T>(bytes: number, count: number, shell: (items: T[]) => unknown, item: (i: number, text: string) => T): string {
  const bare = JSON.stringify(shell(Array.from({ length: count }, (_, i) => item(i, ""))));
  const per = Math.max(0, Math.floor((bytes - bare.length) / count));
  const text = LINE.repeat(Math.ceil(per / LINE.length)).slice(0, per);
  const items = Array.from({ length: count }, (_, i) => item(i, text));
  return JSON.stringify(shell(items));
}

/** How many items a body of `bytes` bytes holds: one per 400 bytes, from 1 to `most`. */
const itemsIn = (bytes: number, most: number) => Math.min(most, Math.max(1, Math.floor(bytes / 400)));

/** A delivery of about `bytes` bytes, and its event name. */
export function benchBody(source: SourceName, bytes: number): { event: string; text: string } {
  switch (source) {
    case "github":
      return {
        event: "push",
        text: sized(
          bytes,
          itemsIn(bytes, 2048),
          (commits) => ({ ref: "refs/heads/feature/sso", before: "0".repeat(40), after: "f".repeat(40), deleted: false, repository: { full_name: "acme/api" }, commits }),
          (i, text) => ({
            id: (i + 1).toString(16).padStart(40, "a"),
            message: `Step ${i}\n\n${text}`,
            author: { name: "Alice", email: "alice@example.com", username: "alice" },
            added: [`src/session/${i}.ts`],
            removed: [],
            modified: ["src/session/store.ts"],
          }),
        ),
      };
    case "slack":
      return {
        event: "message",
        text: sized(
          bytes,
          1,
          ([text]) => ({
            type: "event_callback",
            team_id: "T0ACME",
            event_id: "Ev0BENCH0001",
            event_time: 1747213924,
            event: { type: "message", channel: "C0AB1", user: "U01ALICE", text, ts: "1747213924.000100", thread_ts: "1747213001.000100" },
          }),
          (_i, text) => `The deploy log:\n${text}`,
        ),
      };
    case "events":
      return {
        event: "runner.log.appended",
        text: sized(
          bytes,
          itemsIn(bytes, 1000),
          (lines) => ({ type: "runner.log.appended", timestamp: "2026-03-02T09:00:00.000Z", data: { workOrderId: "k57f8gq2wz0d4r8qnw1h3x6f9s7v2c1b", lines } }),
          (i, text) => ({ at: 1772442000000 + i, level: "info", text }),
        ),
      };
  }
}
