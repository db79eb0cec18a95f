/**
 * Temporal's HTTP API as the demo needs it, answering as the real frontend
 * does: start a workflow (`POST /api/v1/namespaces/{ns}/workflows/{id}`,
 * 409 AlreadyExists for a second start), describe one (`GET`, 404 NotFound
 * for an unknown id), NotFound for another namespace, 401 without the API key.
 */

export type Execution = {
  workflowId: string;
  runId: string;
  workflowType: string;
  taskQueue: string;
  /** The decoded json/plain input. */
  input: unknown;
  status: "RUNNING" | "COMPLETED" | "FAILED" | "CANCELED" | "TERMINATED";
};

const utf8 = new TextDecoder();

function decodePayload(payload: { metadata?: { encoding?: string }; data?: string } | undefined): unknown {
  if (payload?.metadata?.encoding === undefined || payload.data === undefined) {
    return undefined;
  }
  const bytes = (text: string) => Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
  if (utf8.decode(bytes(payload.metadata.encoding)) !== "json/plain") {
    return undefined;
  }
  return JSON.parse(utf8.decode(bytes(payload.data))) as unknown;
}

export class FakeTemporalApi {
  readonly executions = new Map<string, Execution>();
  private runs = 0;

  constructor(readonly origin: string, readonly namespace: string, readonly apiKey?: string) {}

  handles(url: URL): boolean {
    return url.origin === this.origin;
  }

  async answer(url: URL, init: RequestInit | undefined): Promise<Response> {
    const headers = new Headers(init?.headers);
    if (this.apiKey !== undefined && headers.get("authorization") !== `Bearer ${this.apiKey}`) {
      return Response.json({ code: 16, message: "Request unauthorized." }, { status: 401 });
    }
    const match = /^\/api\/v1\/namespaces\/([^/]+)\/workflows\/([^/]+)$/.exec(url.pathname);
    if (match === null) {
      return Response.json({ code: 5, message: "Not Found" }, { status: 404 });
    }
    const [namespace, workflowId] = [decodeURIComponent(match[1]), decodeURIComponent(match[2])];
    if (namespace !== this.namespace) {
      return Response.json({ code: 5, message: `Namespace ${namespace} is not found.` }, { status: 404 });
    }
    const method = init?.method ?? "GET";
    if (method === "GET") {
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
    if (method !== "POST") {
      return Response.json({ code: 12, message: "Method Not Allowed" }, { status: 405 });
    }
    const body = JSON.parse(typeof init?.body === "string" ? init.body : "{}") as {
      workflowType?: { name?: string };
      taskQueue?: { name?: string };
      input?: { payloads?: { metadata?: { encoding?: string }; data?: string }[] };
    };
    if (!body.workflowType?.name || !body.taskQueue?.name) {
      return Response.json({ code: 3, message: "WorkflowType and TaskQueue are required." }, { status: 400 });
    }
    if (this.executions.has(workflowId)) {
      return Response.json({ code: 6, message: "Workflow execution already started" }, { status: 409 });
    }
    const runId = `0195c3f1-demo-run-${String(++this.runs).padStart(4, "0")}`;
    this.executions.set(workflowId, {
      workflowId,
      runId,
      workflowType: body.workflowType.name,
      taskQueue: body.taskQueue.name,
      input: decodePayload(body.input?.payloads?.[0]),
      status: "RUNNING",
    });
    return Response.json({ runId, started: true });
  }
}
