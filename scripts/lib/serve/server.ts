import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { convexTest } from "convex-test";
import { makeFunctionReference } from "convex/server";
import schema from "../../../convex/schema";
import { findFunction, type Modules } from "../modules";
import { cronJobsOf, runCrons } from "./crons";
import { answerFunctionCall, FUNCTION_ROUTES, type Backend } from "./functionsApi";
import { oneAtATime, serializeScheduledFunctions } from "./oneAtATime";
import { outsideServices, routeFetch, type Outside } from "./outside";
import { developmentSettings, serviceJwks, type ServeSettings } from "./settings";

/**
 * `npm run serve`: this repository's functions on an embedded backend
 * (convex-test) in this process, served on loopback as a deployment serves
 * them: the functions API (`ConvexHttpClient`, `npx convex run`) on one port
 * and the site (HTTP actions: the webhooks, /healthz) on another. Scheduled
 * functions run on their own timers, crons on their schedules, and Slack and
 * Temporal are faked unless real ones are configured. Nothing is kept: the
 * data lives in memory and is gone when the process stops.
 *
 *   const served = await serve({ modules: convexModules(), given: loadEnv().values });
 *   // served.functionsUrl  http://127.0.0.1:3210
 *   // served.siteUrl       http://127.0.0.1:3211
 *   await served.close();
 */

export type ServeOptions = {
  modules: Modules;
  /** Settings given by the operator (the environment, .env.local); the development defaults fill the rest. */
  given: Readonly<Record<string, string | undefined>>;
  /** 3210 and 3211 by default; 0 for any free port. */
  functionsPort?: number;
  sitePort?: number;
  host?: string;
  log?: (line: string) => void;
};

export type Served = {
  functionsUrl: string;
  siteUrl: string;
  settings: ServeSettings;
  outside: Outside;
  backend: Backend;
  /** Cron jobs whose schedule the embedded backend does not keep (weekly, monthly, cron expressions). */
  cronsNotRun: string[];
  close: () => Promise<void>;
};

async function bodyOf(request: IncomingMessage): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of request) chunks.push(chunk as Uint8Array);
  return new Uint8Array(Buffer.concat(chunks));
}

async function listen(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return `http://${host}:${(server.address() as AddressInfo).port}`;
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Answers a request whose handler threw with 500 and the reason, rather than leaving it hanging. */
function handled(handle: (request: IncomingMessage, response: ServerResponse) => Promise<void>, log: (line: string) => void) {
  return (request: IncomingMessage, response: ServerResponse) => {
    handle(request, response).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      log(`${request.method} ${request.url}: ${message}`);
      if (!response.headersSent) {
        response.writeHead(500, { "content-type": "application/json" });
      }
      response.end(JSON.stringify({ code: "InternalServerError", message }));
    });
  };
}

export async function serve(options: ServeOptions): Promise<Served> {
  const log = options.log ?? (() => {});
  const host = options.host ?? "127.0.0.1";
  const outside = outsideServices(options.given);
  const settings = developmentSettings(options.given, outside.settings, await serviceJwks(options.given));
  const savedEnv = Object.fromEntries(Object.keys(settings.values).map((name) => [name, process.env[name]]));
  Object.assign(process.env, settings.values);
  const restoreFetch = routeFetch(outside.fakes);

  const backend = convexTest({ schema, modules: options.modules, transactionLimits: true });
  const serial = oneAtATime();
  const restoreTimers = serializeScheduledFunctions(serial, () => backend.finishInProgressScheduledFunctions());

  // A browser's client (Jangar's UI) calls across origins, as it would call a deployment.
  const cors = { "access-control-allow-origin": "*", "access-control-allow-headers": "Content-Type, Authorization, Convex-Client", "access-control-allow-methods": "POST, OPTIONS" };
  const functions = createServer(
    handled(async (request, response) => {
      const route = new URL(request.url ?? "/", "http://localhost").pathname;
      if (request.method === "OPTIONS") {
        response.writeHead(204, cors);
        response.end();
        return;
      }
      if (request.method !== "POST" || !FUNCTION_ROUTES.includes(route)) {
        response.writeHead(404, { "content-type": "application/json", ...cors });
        response.end(JSON.stringify({ code: "NotFound", message: `No ${request.method} ${route} here: the functions API takes POST ${FUNCTION_ROUTES.join(", ")}.` }));
        return;
      }
      const body = new TextDecoder().decode(await bodyOf(request));
      const answer = await serial(() => answerFunctionCall(backend, options.modules, settings.adminKey, { route, authorization: request.headers.authorization, body }));
      response.writeHead(answer.status, { "content-type": "application/json", ...cors });
      response.end(JSON.stringify(answer.body));
    }, log),
  );

  const site = createServer(
    handled(async (request, response) => {
      const headers = new Headers();
      for (const [name, value] of Object.entries(request.headers)) {
        if (typeof value === "string") headers.set(name, value);
      }
      const body = request.method === "GET" || request.method === "HEAD" ? undefined : await bodyOf(request);
      const answer = await serial(() => backend.fetch(request.url ?? "/", { method: request.method, headers, body: body as BodyInit | undefined }));
      response.writeHead(answer.status, Object.fromEntries(answer.headers));
      response.end(new Uint8Array(await answer.arrayBuffer()));
    }, log),
  );

  const cronsModule = Object.entries(options.modules).find(([key]) => /(^|\/)convex\/crons\.(ts|js)$/.test(key))?.[1];
  const crons = runCrons(
    cronJobsOf(cronsModule ? await cronsModule() : {}),
    async (path, args) => {
      const registered = await findFunction(options.modules, path);
      const cronArgs = args as Record<string, never>;
      await serial(() => registered?.isAction
        ? backend.action(makeFunctionReference<"action">(path), cronArgs)
        : backend.mutation(makeFunctionReference<"mutation">(path), cronArgs),
      );
    },
    log,
  );

  const restore = () => {
    crons.stop();
    restoreTimers();
    restoreFetch();
    for (const [name, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  try {
    const functionsUrl = await listen(functions, options.functionsPort ?? 3210, host);
    const siteUrl = await listen(site, options.sitePort ?? 3211, host);
    return {
      functionsUrl,
      siteUrl,
      settings,
      outside,
      backend,
      cronsNotRun: crons.skipped,
      close: async () => {
        await Promise.all([closeServer(functions), closeServer(site)]);
        // Work already queued finishes before the settings, timers and fetch go back.
        await serial(() => backend.finishInProgressScheduledFunctions());
        restore();
      },
    };
  } catch (error) {
    await Promise.all([functions, site].filter((server) => server.listening).map(closeServer));
    restore();
    const code = (error as { code?: string }).code;
    if (code === "EADDRINUSE") {
      throw new Error(
        `a port is taken (${(error as Error).message.replace(/^listen EADDRINUSE: address already in use /, "")}): is npm run dev or another npm run serve running? Stop it, or pass --port and --site-port.`,
        { cause: error },
      );
    }
    throw error;
  }
}
