import { httpRouter } from "convex/server";
import { httpAction } from "./_generated/server";

const http = httpRouter();

http.route({
  path: "/healthz",
  method: "GET",
  handler: httpAction(async () => Response.json({ status: "ok" })),
});

export default http;
