/**
 * Starts launches at once in a fresh process, for the launch memory test and
 * benchmark:
 * `node --max-old-space-size=<MB> --import tsx test/helpers/bench/launchMemory.ts <launches> <inputBytes>`.
 * Each launch holds its order's launch input as JSON text (as the launcher's
 * action does, having read it from its query) and starts its workflow with
 * the Temporal client; a stand-in for `fetch` holds every request until all
 * of them are in flight, as ten launches of a relaunch page are, then
 * answers each as Temporal does. It prints `{ started, bodyBytes, held }`,
 * `held` being what the launches hold while their requests are in flight
 * (V8's heap and array buffers, after a collection, less what the process
 * held before), in copies of one launch's input; in a heap too small for the
 * launches, V8 ends the process. Run with `--expose-gc` for `held`.
 */
import { startWorkflow } from "../../../src/temporal/client";

const [launches, inputBytes] = process.argv.slice(2).map(Number);

/** A launch input of about `bytes` bytes as JSON: a prompt of varied text (not one repeated character, which V8 may hold cheaply). */
function inputJson(index: number, bytes: number): string {
  const words: string[] = [];
  let length = 0;
  for (let n = 0; length < bytes - 200; n += 1) {
    const word = `step-${index}-${n} `;
    words.push(word);
    length += word.length;
  }
  return JSON.stringify({ workOrderId: `order${index}`, prompt: words.join(""), args: [{ name: "model", value: "gpt-5" }], target: null });
}

/** The heap and array buffers the process holds now, after a collection. */
function holding(): number {
  (globalThis as { gc?: () => void }).gc?.();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

const before = holding();
let held = 0;
let inFlight = 0;
let bodyBytes = 0;
let release!: () => void;
const allInFlight = new Promise<void>((resolve) => (release = resolve));

const fetchImpl = (async (_url: RequestInfo | URL, init?: RequestInit) => {
  const body = init?.body;
  bodyBytes += typeof body === "string" ? body.length : body instanceof Uint8Array ? body.byteLength : 0;
  inFlight += 1;
  if (inFlight === launches) {
    held = holding() - before;
    release();
  }
  await allInFlight;
  return Response.json({ runId: "5f1e0c4e-run" });
}) as typeof fetch;

const config = { baseUrl: "http://temporal.test:7243", namespace: "default", timeoutMs: 600_000 };
const started = await Promise.all(
  Array.from({ length: launches }, async (_, index) => {
    const json = inputJson(index, inputBytes);
    // The action awaits its query before it starts the workflow.
    await new Promise((resolve) => setTimeout(resolve, 0));
    return await startWorkflow(
      config,
      { workflowId: `order${index}`, workflowType: "codex-implement", taskQueue: "codex", inputJson: json, requestId: `launch-order${index}` },
      fetchImpl,
    );
  }),
);
const copies = Math.round((100 * held) / (launches * inputBytes)) / 100;
console.log(JSON.stringify({ started: started.filter((answer) => answer.kind === "started").length, bodyBytes, held: copies }));
