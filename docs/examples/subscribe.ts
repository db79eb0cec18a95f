import { ConvexClient } from "convex/browser";
import { api, authenticate, jangarFunctions, serviceTokens } from "jangar-persistence/client";

// A long-lived process: one WebSocket, whose token is refreshed before it ends.
const client = new ConvexClient(process.env.CONVEX_URL!);
authenticate(client, await serviceTokens(process.env.JANGAR_SERVICE_KEY!));
const jangar = jangarFunctions(client);

const sessionId = await jangar.chatSessions.create({ title: "Deploy the API", userId: "alice" });
// Called with the first page now, and again whenever it changes.
const stop = client.onUpdate(api.chatMessages.listBySession, { sessionId, paginationOpts: { numItems: 50, cursor: null } }, ({ page }) => {
  console.log(page.map((message) => `${message.role}: ${message.content}`));
});
process.on("SIGTERM", () => {
  stop();
  void client.close();
});
