import { httpRouter } from "convex/server";
import { httpAction } from "./_generated/server";
import { receiveWebhook } from "./inbox/receive";
import { webhookSources } from "../src/sources";

const http = httpRouter();

for (const source of Object.values(webhookSources)) {
  http.route({ path: source.path, method: "POST", handler: receiveWebhook(source) });
}

http.route({
  path: "/healthz",
  method: "GET",
  handler: httpAction(async () => Response.json({ status: "ok" })),
});

export default http;
