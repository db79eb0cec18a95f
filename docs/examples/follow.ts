import { ConvexClient } from "convex/browser";
import { api, authenticate, parseEvent, serviceTokens, type JangarEvent } from "jangar-persistence/client";

// A long-lived server that follows events out by subscription instead of HTTP.
const client = new ConvexClient(process.env.CONVEX_URL!);
authenticate(client, await serviceTokens(process.env.JANGAR_SERVICE_KEY!));

// Where the server stands: the cursor of the page it follows, and the events it handled (keep both in your own store).
let cursor: string | null = null;
const handled = new Set<string>();

// Updates are handled one at a time, in the order they came: an update that arrives while `act` is still
// working waits for it, so no event is acted on twice. An event whose `act` failed is tried again with the next update.
let handling = Promise.resolve();

/** Follows the page at `cursor`: called now and whenever it changes; once it is full, moves on to the next. */
function follow(): () => void {
  let movedOn = false;
  const stop = client.onUpdate(api.events.list, { paginationOpts: { numItems: 100, cursor } }, ({ page, isDone, continueCursor }) => {
    handling = handling
      .then(async () => {
        for (const { id, event } of page) {
          if (!handled.has(id)) {
            await act(parseEvent(event));
            handled.add(id);
          }
        }
      })
      .catch((error: unknown) => console.error("An event was not handled; it is tried again with the next update:", error));
    if (!isDone && !movedOn) {
      // Full: follow the next page; this one a few seconds more, for an event whose transaction commits late.
      movedOn = true;
      setTimeout(stop, 10_000);
      cursor = continueCursor;
      stopFollowing = follow();
    }
  });
  return stop;
}
let stopFollowing = follow();

async function act(event: JangarEvent): Promise<void> {
  if (event.type === "chat.message.created" && event.data.role === "user") {
    console.log(`${event.data.sessionId} (${event.data.source}): ${event.data.content}`);
  }
}

process.on("SIGTERM", () => {
  stopFollowing();
  void client.close();
});
