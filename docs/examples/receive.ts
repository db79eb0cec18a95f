import { connectHttp, EventVerificationError, eventVerifier, serviceTokens, type JangarEvent } from "jangar-persistence/client";

const verifier = eventVerifier(process.env.JANGAR_EVENTS_SECRET!);
const jangar = connectHttp(process.env.CONVEX_URL!, await serviceTokens(process.env.JANGAR_SERVICE_KEY!));
const seen = new Set<string>(); // keep this in your own store: a retry carries the same id

/** POST JANGAR_EVENTS_URL: verify first, then act; a 2xx ends the event, a 5xx has it sent again. */
export async function receiveEvent(request: Request): Promise<Response> {
  let verified;
  try {
    verified = verifier.verify(new Uint8Array(await request.arrayBuffer()), request.headers);
  } catch (error) {
    if (error instanceof EventVerificationError) {
      return new Response(error.message, { status: error.status });
    }
    throw error;
  }
  if (!seen.has(verified.id)) {
    await act(verified.event);
    seen.add(verified.id);
  }
  return new Response(null, { status: 204 });
}

async function act(event: JangarEvent): Promise<void> {
  switch (event.type) {
    case "chat.message.created":
      if (event.data.role === "user" && event.data.source !== "api") {
        await jangar.chatMessages.append({ sessionId: event.data.sessionId, role: "assistant", content: "On it." });
      }
      return;
    case "work_order.status.changed":
      console.log(`${event.data.workOrderId}: ${event.data.from} -> ${event.data.to} (${event.data.source})`);
      return;
    case "chat.message.updated":
    case "chat.message.deleted":
    case "work_order.created":
    case "work_order.link.added":
      return;
    default:
      event satisfies never;
  }
}
