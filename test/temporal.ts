import { expect } from "vitest";
import type { ExecutionStatus } from "../src/temporal/client";

export const TEMPORAL_URL = "http://temporal.test:7243";

type Recorded = { method: string; path: string; headers: Headers; body: unknown; at: number };

const CLOSED: ReadonlySet<ExecutionStatus> = new Set(["COMPLETED", "FAILED", "CANCELED", "TERMINATED", "TIMED_OUT"]);

/** Answers the fake gives instead of the normal one, each as the real frontend (or a proxy before it) spells it. */
export type FakeTemporalMode =
  | "normal"
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

/**
 * A fake of Temporal's HTTP API, to stand in for `fetch`. It checks each
 * request's method, path and headers the way the real frontend routes them,
 * and answers as told: an execution's status, 404, 500, a hang, bad JSON.
 * A cancel request (`POST .../workflows/{id}/cancel`) is honoured at once:
 * the running execution becomes CANCELED.
 */
export class FakeTemporal {
  readonly requests: Recorded[] = [];
  readonly executions = new Map<string, ExecutionStatus>();
  /** How the next requests are answered instead of normally. */
  mode: FakeTemporalMode = "normal";
  /** How long (in fake time) each answer takes: a slow Temporal. */
  delayMs = 0;
  /** The run id a start answers with. */
  runIdOf = (workflowId: string) => `run-of-${workflowId}`;
  /** Called when a start request arrives, before it is answered: what else happens meanwhile. */
  onStart?: (workflowId: string) => Promise<void>;

  constructor(readonly expected: { namespace: string; apiKey?: string }) {}

  readonly fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
    const headers = new Headers(init?.headers);
    const method = init?.method ?? "GET";
    const body = typeof init?.body === "string" ? (JSON.parse(init.body) as unknown) : undefined;
    this.requests.push({ method, path: url.pathname, headers, body, at: Date.now() });

    expect(url.origin).toBe(TEMPORAL_URL);
    expect(headers.get("authorization")).toBe(this.expected.apiKey ? `Bearer ${this.expected.apiKey}` : null);
    const match = /^\/api\/v1\/namespaces\/([^/]+)\/workflows\/([^/]+)(\/cancel)?$/.exec(url.pathname);
    expect(match, `path ${url.pathname}`).not.toBeNull();
    expect(decodeURIComponent(match![1])).toBe(this.expected.namespace);
    const workflowId = decodeURIComponent(match![2]);
    const cancel = match![3] !== undefined;
    if (this.delayMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    }

    switch (this.mode) {
      case "unreachable":
        throw new TypeError("fetch failed: connect ECONNREFUSED");
      case "hang":
        return await new Promise<Response>((_, reject) => {
          init?.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
        });
      case "error500":
        return Response.json({ code: 14, message: "unavailable" }, { status: 500 });
      case "namespaceMissing":
        return Response.json({ code: 5, message: `Namespace ${this.expected.namespace} is not found.` }, { status: 404 });
      case "malformed":
        return new Response("<html>bad gateway</html>", { status: 200, headers: { "content-type": "text/html" } });
      case "invalidArgument":
        return Response.json({ code: 3, message: "Blob data size exceeds limit.", details: [] }, { status: 400 });
      case "tooLarge":
        return new Response("<html><h1>413 Request Entity Too Large</h1></html>", { status: 413, headers: { "content-type": "text/html" } });
      case "proxyBadRequest":
        return new Response("<html>400 The plain HTTP request was sent to HTTPS port</html>", { status: 400, headers: { "content-type": "text/html" } });
      case "unauthorized":
        return Response.json({ code: 16, message: "Request unauthorized." }, { status: 401 });
      case "forbidden":
        return Response.json({ code: 7, message: "Request unauthorized." }, { status: 403 });
      case "rateLimited":
        return Response.json({ code: 8, message: "namespace rate limit exceeded" }, { status: 429 });
      case "error503":
        return new Response("upstream connect error", { status: 503 });
      case "normal":
        break;
    }
    if (cancel) {
      return this.cancel(method, headers, workflowId, body);
    }
    if (method === "GET") {
      const status = this.executions.get(workflowId);
      return status === undefined
        ? Response.json({ code: 5, message: `workflow not found for ID: ${workflowId}` }, { status: 404 })
        : Response.json({
            executionConfig: { taskQueue: { name: "codex", kind: "TASK_QUEUE_KIND_NORMAL" } },
            workflowExecutionInfo: {
              execution: { workflowId, runId: "5f1e-run" },
              type: { name: "codexImplement" },
              status: `WORKFLOW_EXECUTION_STATUS_${status}`,
            },
          });
    }
    expect(method).toBe("POST");
    await this.onStart?.(workflowId);
    if (this.executions.has(workflowId)) {
      return Response.json({ code: 6, message: "Workflow execution already started" }, { status: 409 });
    }
    this.executions.set(workflowId, "RUNNING");
    return Response.json({ runId: this.runIdOf(workflowId), started: true });
  };

  /** RequestCancelWorkflowExecution as the frontend routes it: POST, JSON, the workflow in the body as in the path. */
  private cancel(method: string, headers: Headers, workflowId: string, body: unknown): Response {
    expect(method).toBe("POST");
    expect(headers.get("content-type")).toBe("application/json");
    expect(headers.get("temporal-namespace")).toBe(this.expected.namespace);
    expect(body).toEqual({
      namespace: this.expected.namespace,
      workflowExecution: { workflowId },
      identity: expect.any(String),
      requestId: expect.any(String),
      reason: expect.any(String),
    });
    const status = this.executions.get(workflowId);
    if (status === undefined) {
      return Response.json({ code: 5, message: `workflow not found for ID: ${workflowId}` }, { status: 404 });
    }
    if (CLOSED.has(status)) {
      return Response.json({ code: 5, message: "workflow execution already completed" }, { status: 404 });
    }
    this.executions.set(workflowId, "CANCELED");
    return Response.json({});
  }

  /** The cancel requests received, by workflow id, in order. */
  get cancelRequests(): string[] {
    return this.requests.filter((request) => request.path.endsWith("/cancel")).map((request) => decodeURIComponent(request.path.split("/").at(-2)!));
  }

  /** The one argument of a start request, decoded from its json/plain payload. */
  static startInput(body: unknown): unknown {
    const payloads = (body as { input: { payloads: { metadata: { encoding: string }; data: string }[] } }).input.payloads;
    expect(payloads).toHaveLength(1);
    expect(atob(payloads[0].metadata.encoding)).toBe("json/plain");
    const bytes = Uint8Array.from(atob(payloads[0].data), (char) => char.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  }
}
