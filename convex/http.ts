import { httpRouter } from "convex/server";
import { httpAction } from "./_generated/server";
import { receiveWebhook } from "./inbox/receive";
import { webhookSources } from "../src/sources";

const http = httpRouter();

/** A route, also answering with a trailing slash (docs/contract.md#hardening-rules): senders and probes write either. */
function route(path: string, method: "GET" | "POST", handler: ReturnType<typeof httpAction>) {
  for (const spelling of [path, `${path}/`]) {
    http.route({ path: spelling, method, handler });
  }
}

for (const source of Object.values(webhookSources)) {
  route(source.path, "POST", receiveWebhook(source));
}

route("/healthz", "GET", httpAction(async () => Response.json({ status: "ok" })));

export default http;
