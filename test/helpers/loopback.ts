import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Backend } from "./backend";

/**
 * A real HTTP server on loopback that hands each request to the test
 * backend's HTTP actions, one at a time: convex-test runs one function at a
 * time, while a client may send concurrently. For the command-line tools,
 * which talk to a deployment over HTTP.
 */
export async function serveOnLoopback(t: Backend): Promise<{ url: string; server: Server }> {
  let previous: Promise<unknown> = Promise.resolve();
  const oneAtATime = <T>(work: () => Promise<T>): Promise<T> => {
    const result = previous.then(work, work);
    previous = result.catch(() => undefined);
    return result;
  };
  const body = async (request: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  const server = createServer(async (request, response) => {
    const headers = new Headers();
    for (const [name, value] of Object.entries(request.headers)) {
      if (typeof value === "string") headers.set(name, value);
    }
    const bytes = request.method === "GET" ? undefined : new Uint8Array(await body(request));
    const answer = await oneAtATime(() => t.fetch(request.url!, { method: request.method, headers, body: bytes }));
    const answerHeaders: Record<string, string> = { "content-type": answer.headers.get("content-type") ?? "application/json" };
    const retryAfter = answer.headers.get("retry-after");
    if (retryAfter !== null) answerHeaders["retry-after"] = retryAfter;
    response.writeHead(answer.status, answerHeaders);
    response.end(Buffer.from(await answer.arrayBuffer()));
  });
  return { url: await listen(server), server };
}

/** Starts a server on a free loopback port; returns its URL. */
export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function closeServer(server: Server) {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}
