import { httpRouter } from "convex/server";
import { httpAction } from "./_generated/server";
import { receiveWebhook } from "./ingest";
import { webhookSources } from "../src/sources";

const http = httpRouter();

http.route({ path: "/webhooks/github", method: "POST", handler: receiveWebhook(webhookSources.github) });
http.route({ path: "/webhooks/slack", method: "POST", handler: receiveWebhook(webhookSources.slack) });
http.route({ path: "/webhooks/events", method: "POST", handler: receiveWebhook(webhookSources.events) });

http.route({
  path: "/healthz",
  method: "GET",
  handler: httpAction(async () => Response.json({ status: "ok" })),
});

export default http;
