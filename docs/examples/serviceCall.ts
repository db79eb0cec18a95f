import { connectHttp, serviceTokens } from "jangar-persistence/client";

// tokenIdentifier "https://jangar.internal|jangar-server", listed in JANGAR_SERVICE_IDENTITIES.
const jangar = connectHttp(process.env.CONVEX_URL!, await serviceTokens(process.env.JANGAR_SERVICE_KEY!));
const sessionId = await jangar.chatSessions.create({ title: "Deploy", userId: "alice" });
console.log(sessionId);
