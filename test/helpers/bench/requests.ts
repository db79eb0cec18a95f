import { webhookSources } from "../../../src/sources";
import type { SourceName } from "../../../src/sources/source";
import { benchBody } from "./bodies";

/** The secrets the benchmark's deployment and senders share. */
export const BENCH_SECRETS: Record<SourceName, string> = {
  github: "It's a Secret to Everybody",
  slack: "8f742231b10e8888abcd99yyyzzz85a5",
  events: "whsec_amFuZ2FyIGV2ZW50cyBydW5uZXIga2V5",
};

export type SignedParts = { path: string; headers: Record<string, string>; body: Uint8Array<ArrayBuffer> };

/** A delivery of about `bytes` bytes, signed by its source's own signer, as it arrives. */
export async function signedBenchDelivery(source: SourceName, bytes: number, nowSeconds: number): Promise<SignedParts> {
  const { event, text } = benchBody(source, bytes);
  const body = new TextEncoder().encode(text);
  const id = source === "events" ? "msg_2qJ7xRk9LmBENCH" : "72d3162e-cc78-11e3-81ab-4c9367dc0001";
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    ...(await webhookSources[source].sign(BENCH_SECRETS[source], { body, id, timestamp: nowSeconds })),
  };
  if (source === "github") {
    Object.assign(headers, { "X-GitHub-Event": event, "X-GitHub-Delivery": id, "X-GitHub-Hook-ID": "292430182" });
  }
  return { path: webhookSources[source].path, headers, body };
}

/** The request as a runtime hands it over: the body streamed in 64 KiB chunks that are views, not copies, of the bytes received. */
export function streamedRequest({ path, headers, body }: SignedParts): Request {
  const CHUNK = 64 * 1024;
  let at = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= body.length) {
        controller.close();
        return;
      }
      controller.enqueue(body.subarray(at, at + CHUNK));
      at += CHUNK;
    },
  });
  return new Request(`https://bench.convex.site${path}`, { method: "POST", headers, body: stream, duplex: "half" } as RequestInit);
}

/** The request with its body already received whole: one chunk. */
export function bufferedRequest({ path, headers, body }: SignedParts): Request {
  return new Request(`https://bench.convex.site${path}`, { method: "POST", headers, body });
}
