import { connectHttp, serviceTokens } from "jangar-persistence/client";

// JANGAR_SERVICE_KEY: the private key `npm run service-key` printed.
const tokens = await serviceTokens(process.env.JANGAR_SERVICE_KEY!);

// As the service (https://jangar.internal|jangar-server): every record, any user.
const jangar = connectHttp(process.env.CONVEX_URL!, tokens);
const sessionId = await jangar.chatSessions.create({ title: "Deploy the API", userId: "alice" });
await jangar.chatMessages.append({ sessionId, role: "assistant", content: "On it." });
const workOrderId = await jangar.workOrders.create({
  sessionId,
  workflowType: "codex-implement",
  prompt: "Deploy the API to staging",
  title: "Deploy the API",
  target: { targetRepo: "acme/api", targetBranch: "main" },
});
await jangar.workOrders.updateStatus({ workOrderId, status: "accepted" });

// As the user alice (https://jangar.internal|alice): her records only.
const alice = connectHttp(process.env.CONVEX_URL!, tokens, { as: "alice" });
const { page } = await alice.chatSessions.list({ paginationOpts: { numItems: 20, cursor: null } });
console.log(page.map((session) => session.title));
