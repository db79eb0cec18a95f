import type { Id } from "../../../convex/_generated/dataModel";
import { connectHttp, eventVerifier, generateServiceKey, serviceTokens } from "../../../client";
import { FakeJangar } from "../../../fakes/jangar";
import { convexModules } from "../modules";
import { answerFunctionCall } from "../serve/functionsApi";
import { DEMO_SETTINGS } from "./settings";
import type { DemoBackend } from "./timeline";

/**
 * Jangar's server, as the demo plays it: it verifies each event with the
 * service client's verifier (docs/server.md#receiving-events-over-http) and
 * keeps the Slack mentions to answer; it answers them through the service
 * client over Convex's functions API, here the embedded backend's.
 */
export async function jangarServer(t: DemoBackend) {
  const verifier = eventVerifier(DEMO_SETTINGS.JANGAR_EVENTS_SECRET);
  const mentions: { sessionId: Id<"chat_sessions">; content: string }[] = [];
  const { privateKey } = await generateServiceKey();
  const modules = convexModules();
  const client = connectHttp("https://demo.convex.cloud", await serviceTokens(privateKey), {
    fetch: async (input, init) => {
      const route = new URL(input instanceof Request ? input.url : String(input)).pathname;
      const headers = new Headers(init?.headers);
      const answer = await answerFunctionCall(t, modules, "", { route, authorization: headers.get("authorization") ?? undefined, body: String(init?.body) });
      return Response.json(answer.body, { status: answer.status });
    },
  });
  const jangar = new FakeJangar({
    baseUrl: DEMO_SETTINGS.JANGAR_EVENTS_URL,
    secrets: [DEMO_SETTINGS.JANGAR_EVENTS_SECRET],
    onEvent: ({ body, headers }) => {
      const { event } = verifier.verify(body, headers);
      if (event.type === "chat.message.created" && event.data.role === "user" && event.data.source === "slack") {
        mentions.push({ sessionId: event.data.sessionId, content: event.data.content });
      }
    },
  });
  return { jangar, mentions, client };
}
