/**
 * A fake of Temporal's HTTP API as this service calls it: start a workflow
 * (`POST /api/v1/namespaces/{ns}/workflows/{id}`, 409 for a second start),
 * describe one (`GET`, 404 for an unknown id), and request its cancellation
 * (`POST .../workflows/{id}/cancel`, honoured at once: the running execution
 * becomes CANCELED). It checks each request as the frontend routes it (path,
 * namespace, the API key as a bearer token, the cancel's headers and body)
 * and lists what is wrong in `violations`; it answers as Temporal does, or as
 * scripted: a named trouble as the frontend or a proxy before it spells it,
 * or any scripted answer.
 *
 * ```ts
 * import { FakeTemporal, TEMPORAL_URL } from "../fakes/temporal";
 *
 * const temporal = new FakeTemporal({ namespace: "jangar-prod", apiKey: "tmprl_api_key" });   // at TEMPORAL_URL
 * vi.stubGlobal("fetch", temporal.fetch);
 * temporal.setStatus(workOrderId, "RUNNING");          // a workflow Temporal knows
 * temporal.answerNext("error503", "hang");             // then normal answers
 * temporal.answerAlways("unreachable");                // until temporal.answerNormally()
 * // ... run the code under test, then:
 * expect(temporal.calls.map(({ method, path, answer }) => [method, path, answer])).toEqual([...]);
 * expect(temporal.statusOf(workOrderId)).toBe("CANCELED");
 * expect(temporal.violations).toEqual([]);
 *
 * const { url, close } = await temporal.serve(7243);   // http://127.0.0.1:7243, for TEMPORAL_HTTP_URL
 * ```
 */
import { FakeService, type FakeRequest, type RecordedCall, type ScriptedAnswer } from "./http";

export const TEMPORAL_URL = "http://temporal.test:7243";

export type TemporalStatus = "RUNNING" | "COMPLETED" | "FAILED" | "CANCELED" | "TERMINATED" | "CONTINUED_AS_NEW" | "TIMED_OUT" | "PAUSED";

export type TemporalExecution = {
  runId: string;
  workflowType: string;
  taskQueue: string;
  /** The start's one argument, decoded from its json/plain payload. */
  input: unknown;
  status: TemporalStatus;
};

/** Answers other than the normal one, each as the real frontend (or a proxy before it) spells it. */
export type TemporalTrouble =
  | "error500"
  | "error503"
  | "hang"
  | "malformed"
  | "unreachable"
  | "namespaceMissing"
  | "unauthorized"
  | "forbidden"
  | "rateLimited"
  | "proxyBadRequest"
  /** 400 INVALID_ARGUMENT (gRPC 3): the request itself is refused. */
  | "invalidArgument"
  | "tooLarge";

export type TemporalAnswer = TemporalTrouble | ScriptedAnswer;

/** One request: its HTTP method, its path, headers and JSON body, and the answer it got (`"normal"` unless scripted). */
export type TemporalCall = RecordedCall<TemporalAnswer | "normal"> & { method: string; path: string; headers: Headers; body: unknown };

const CLOSED: ReadonlySet<TemporalStatus> = new Set(["COMPLETED", "FAILED", "CANCELED", "TERMINATED", "TIMED_OUT"]);
const WORKFLOW_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/workflows\/([^/]+)(\/cancel)?$/;
const html = (status: number, text: string): ScriptedAnswer => ({ status, headers: { "content-type": "text/html" }, body: `<html>${text}</html>` });

export class FakeTemporal extends FakeService<TemporalAnswer, TemporalCall> {
  readonly executions = new Map<string, TemporalExecution>();
  readonly namespace: string;
  readonly apiKey: string | undefined;
  /** The run id a start answers with. */
  runIdOf = (workflowId: string) => `run-of-${workflowId}`;
  /** Called when a start request arrives, before it is answered: what else happens meanwhile. */
  onStart?: (workflowId: string) => Promise<void>;

  constructor({ baseUrl = TEMPORAL_URL, namespace, apiKey }: { baseUrl?: string; namespace: string; apiKey?: string }) {
    super(baseUrl);
    this.namespace = namespace;
    this.apiKey = apiKey;
  }

  /** A workflow Temporal knows, in `status` (started with no input, when it was not). */
  setStatus(workflowId: string, status: TemporalStatus): void {
    const execution = this.executions.get(workflowId);
    if (execution === undefined) {
      this.executions.set(workflowId, { runId: this.runIdOf(workflowId), workflowType: "codexImplement", taskQueue: "codex", input: undefined, status });
    } else {
      execution.status = status;
    }
  }

  /** A workflow's status as Temporal holds it; undefined for one it does not know. */
  statusOf(workflowId: string): TemporalStatus | undefined {
    return this.executions.get(workflowId)?.status;
  }

  /** The cancel requests received, by workflow id, in order. */
  get cancelRequests(): string[] {
    return this.calls.filter((call) => call.path.endsWith("/cancel")).map((call) => decodeURIComponent(call.path.split("/").at(-2)!));
  }

  /** The one argument of a start request's body, decoded from its json/plain payload. */
  static startInput(body: unknown): unknown {
    const payloads = (body as { input?: { payloads?: { metadata?: { encoding?: string }; data?: string }[] } } | undefined)?.input?.payloads ?? [];
    const [payload] = payloads;
    if (payloads.length !== 1 || payload.metadata?.encoding === undefined || payload.data === undefined || decode(payload.metadata.encoding) !== "json/plain") {
      throw new Error(`A start's input is one json/plain payload; got ${JSON.stringify(payloads)}.`);
    }
    return JSON.parse(decode(payload.data)) as unknown;
  }

  protected refusal(problem: string): Response {
    return Response.json({ code: 3, message: problem }, { status: 400 });
  }

  protected async receive(request: FakeRequest): Promise<Response> {
    const { method, path, headers } = request;
    let body: unknown;
    try {
      body = request.body === "" ? undefined : (JSON.parse(request.body) as unknown);
    } catch {
      body = request.body;
    }
    const route = this.route(method, path, headers);
    // A request the frontend refuses takes no scripted answer: it is answered as refused.
    const answer = "problem" in route ? undefined : this.nextAnswer();
    this.record({ method, path, headers, body, at: Date.now(), answer: answer ?? "normal" });
    if ("problem" in route) {
      return this.violation(`${method} ${path}: ${route.problem}`, route.answer);
    }
    if (answer !== undefined) {
      return await this.answerWith(typeof answer === "string" && answer in TROUBLE ? TROUBLE[answer as TemporalTrouble](this.namespace) : (answer as ScriptedAnswer), request.signal);
    }
    if (route.cancel) {
      return this.cancel(headers, route.workflowId, body);
    }
    if (method === "GET") {
      return this.describe(route.workflowId);
    }
    return await this.start(route.workflowId, body);
  }

  /** The workflow a request is about, as the frontend routes it; or what is wrong, and the frontend's answer. */
  private route(method: string, path: string, headers: Headers): { workflowId: string; cancel: boolean } | { problem: string; answer: Response } {
    const expectedAuthorization = this.apiKey === undefined ? null : `Bearer ${this.apiKey}`;
    if (headers.get("authorization") !== expectedAuthorization) {
      return { problem: `Authorization is ${headers.get("authorization")}, not ${expectedAuthorization}`, answer: Response.json({ code: 16, message: "Request unauthorized." }, { status: 401 }) };
    }
    const match = WORKFLOW_PATH.exec(path);
    if (match === null) {
      return { problem: "not a workflow's path", answer: Response.json({ code: 5, message: "Not Found" }, { status: 404 }) };
    }
    const namespace = decodeURIComponent(match[1]);
    if (namespace !== this.namespace) {
      return { problem: `namespace ${namespace}, not ${this.namespace}`, answer: Response.json({ code: 5, message: `Namespace ${namespace} is not found.` }, { status: 404 }) };
    }
    const cancel = match[3] !== undefined;
    if (!(cancel ? ["POST"] : ["GET", "POST"]).includes(method)) {
      return { problem: "not GET or POST", answer: Response.json({ code: 12, message: "Method Not Allowed" }, { status: 405 }) };
    }
    return { workflowId: decodeURIComponent(match[2]), cancel };
  }

  private describe(workflowId: string): Response {
    const execution = this.executions.get(workflowId);
    return execution === undefined
      ? Response.json({ code: 5, message: `workflow not found for ID: ${workflowId}` }, { status: 404 })
      : Response.json({
          executionConfig: { taskQueue: { name: execution.taskQueue, kind: "TASK_QUEUE_KIND_NORMAL" } },
          workflowExecutionInfo: {
            execution: { workflowId, runId: execution.runId },
            type: { name: execution.workflowType },
            status: `WORKFLOW_EXECUTION_STATUS_${execution.status}`,
          },
        });
  }

  /** StartWorkflowExecution: the workflow type and task queue are required; a second start is AlreadyExists. */
  private async start(workflowId: string, body: unknown): Promise<Response> {
    const start = body as { workflowType?: { name?: string }; taskQueue?: { name?: string } } | undefined;
    if (!start?.workflowType?.name || !start.taskQueue?.name) {
      return this.violation(`start ${workflowId}: no workflowType.name or taskQueue.name`, Response.json({ code: 3, message: "WorkflowType and TaskQueue are required." }, { status: 400 }));
    }
    let input: unknown;
    try {
      input = FakeTemporal.startInput(body);
    } catch (error) {
      return this.violation(`start ${workflowId}: ${(error as Error).message}`);
    }
    await this.onStart?.(workflowId);
    if (this.executions.has(workflowId)) {
      return Response.json({ code: 6, message: "Workflow execution already started" }, { status: 409 });
    }
    const runId = this.runIdOf(workflowId);
    this.executions.set(workflowId, { runId, workflowType: start.workflowType.name, taskQueue: start.taskQueue.name, input, status: "RUNNING" });
    return Response.json({ runId, started: true });
  }

  /** RequestCancelWorkflowExecution as the frontend routes it: JSON, the namespace in a header, the workflow in the body as in the path. */
  private cancel(headers: Headers, workflowId: string, body: unknown): Response {
    const problems = [
      headers.get("content-type") === "application/json" ? null : `Content-Type ${headers.get("content-type")}`,
      headers.get("temporal-namespace") === this.namespace ? null : `Temporal-Namespace ${headers.get("temporal-namespace")}`,
      isCancelBody(body, this.namespace, workflowId) ? null : `body ${JSON.stringify(body)}`,
    ].filter((problem) => problem !== null);
    if (problems.length > 0) {
      return this.violation(`cancel ${workflowId}: ${problems.join("; ")}`);
    }
    const status = this.statusOf(workflowId);
    if (status === undefined) {
      return Response.json({ code: 5, message: `workflow not found for ID: ${workflowId}` }, { status: 404 });
    }
    if (CLOSED.has(status)) {
      return Response.json({ code: 5, message: "workflow execution already completed" }, { status: 404 });
    }
    this.setStatus(workflowId, "CANCELED");
    return Response.json({});
  }
}

/** The cancel body this service sends: the namespace, the workflow, and its identity, request id and reason as strings. */
function isCancelBody(body: unknown, namespace: string, workflowId: string): boolean {
  const fields = body as Record<string, unknown> | undefined;
  return (
    typeof fields === "object" &&
    fields !== null &&
    Object.keys(fields).sort().join() === "identity,namespace,reason,requestId,workflowExecution" &&
    fields.namespace === namespace &&
    JSON.stringify(fields.workflowExecution) === JSON.stringify({ workflowId }) &&
    ["identity", "requestId", "reason"].every((name) => typeof fields[name] === "string")
  );
}

const TROUBLE: Record<TemporalTrouble, (namespace: string) => ScriptedAnswer> = {
  error500: () => ({ status: 500, body: { code: 14, message: "unavailable" } }),
  error503: () => ({ status: 503, body: "upstream connect error" }),
  hang: () => "hang",
  malformed: () => html(200, "bad gateway"),
  unreachable: () => "network",
  namespaceMissing: (namespace) => ({ status: 404, body: { code: 5, message: `Namespace ${namespace} is not found.` } }),
  unauthorized: () => ({ status: 401, body: { code: 16, message: "Request unauthorized." } }),
  forbidden: () => ({ status: 403, body: { code: 7, message: "Request unauthorized." } }),
  rateLimited: () => ({ status: 429, body: { code: 8, message: "namespace rate limit exceeded" } }),
  proxyBadRequest: () => html(400, "400 The plain HTTP request was sent to HTTPS port"),
  invalidArgument: () => ({ status: 400, body: { code: 3, message: "Blob data size exceeds limit.", details: [] } }),
  tooLarge: () => html(413, "<h1>413 Request Entity Too Large</h1>"),
};

function decode(base64: string): string {
  return new TextDecoder().decode(Uint8Array.from(atob(base64), (char) => char.charCodeAt(0)));
}
