import { httpRouter } from "convex/server";
import { httpAction } from "./_generated/server";
import { receiveWebhook } from "./ingest";
import { github } from "../src/sources/github";

const http = httpRouter();

http.route({ path: "/webhooks/github", method: "POST", handler: receiveWebhook(github) });

http.route({
  path: "/healthz",
  method: "GET",
  handler: httpAction(async () => Response.json({ status: "ok" })),
});

export default http;
