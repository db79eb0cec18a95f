/**
 * The service client: how Jangar's server talks to this deployment
 * (docs/server.md). Import it as `jangar-persistence/client`.
 *
 *   import { connectHttp, eventVerifier, serviceTokens } from "jangar-persistence/client";
 *
 *   const tokens = await serviceTokens(process.env.JANGAR_SERVICE_KEY!);
 *   const jangar = connectHttp(process.env.CONVEX_URL!, tokens);
 *   const sessionId = await jangar.chatSessions.create({ title: "Deploy", userId: "alice" });
 *
 *   const verifier = eventVerifier(process.env.JANGAR_EVENTS_SECRET!);
 *   const { id, event } = verifier.verify(rawBody, request.headers);
 */
export { serviceTokens, generateServiceKey, mergeServiceJwks, SERVICE_KEY_SETTING, type ServiceTokens } from "./auth";
export { connectHttp, authenticate, type HttpOptions } from "./connect";
export { jangarFunctions, type ConvexCaller, type JangarFunctions } from "./functions";
export { eventVerifier, parseEvent, EventVerificationError, type EventCheck, type EventHeaders, type VerifiedEvent } from "./events";
export { EVENT_DATA, EVENT_TYPES, type EventData, type EventType, type JangarEvent } from "../src/events/types";
export { SERVICE_ISSUER, SERVICE_SUBJECT, serviceTokenIdentifier } from "../src/serviceIdentity";
/** The deployment's function references, for `ConvexClient.onUpdate` and other calls by reference. */
export { api } from "../convex/_generated/api";
