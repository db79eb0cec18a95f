import { accept, reject, type Check } from "../check";
import { truncate } from "../text";

/**
 * A small typed client for the three calls of Temporal's HTTP API this
 * service makes (docs/contract.md#5-reconciliation-and-temporal): describe, start and cancel a
 * workflow. It runs wherever `fetch` does: Convex's default runtime, Node,
 * tests with a stubbed fetch.
 */

export type TemporalConfig = {
  /** The HTTP API's base URL, e.g. `http://temporal-frontend:7243`. */
  baseUrl: string;
  namespace: string;
  /** Sent as a bearer token when set (Temporal Cloud API keys). */
  apiKey?: string;
  timeoutMs: number;
};

export const EXECUTION_STATUSES = [
  "RUNNING",
  "COMPLETED",
  "FAILED",
  "CANCELED",
  "TERMINATED",
  "CONTINUED_AS_NEW",
  "TIMED_OUT",
] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

export type Described =
  | { kind: "found"; status: ExecutionStatus }
  | { kind: "notFound" }
  /** Temporal could not say: unreachable, slow, an error, an answer that does not read. */
  | { kind: "unavailable"; reason: string };

export type Started =
  | { kind: "started"; runId: string }
  | { kind: "alreadyStarted" }
  /** Temporal refused this request as it is (invalid, too large): sending it again cannot succeed. */
  | { kind: "refused"; reason: string }
  /** Temporal could not take it now (unreachable, slow, auth, namespace, rate limit, 5xx): try again later. */
  | { kind: "failed"; reason: string };

export type CancelRequested =
  /** Temporal recorded the request (or had one already): the workflow is asked to stop. */
  | { kind: "requested" }
  /** There is no run to cancel: Temporal does not know the workflow, or its run has already closed. */
  | { kind: "gone"; reason: string }
  /** Temporal refused this request as it is: sending it again cannot succeed. */
  | { kind: "refused"; reason: string }
  /** Temporal could not take it now (unreachable, slow, auth, namespace, rate limit, 5xx): try again later. */
  | { kind: "failed"; reason: string };

export type CancelRequest = {
  workflowId: string;
  /** Shown in the workflow's history as why it was canceled. */
  reason: string;
  /** Makes a repeated request a no-op at Temporal. */
  requestId: string;
};

export type StartRequest = {
  workflowId: string;
  workflowType: string;
  taskQueue: string;
  /** The workflow's one argument as JSON text, sent as a json/plain payload. */
  inputJson: string;
  /** Makes a repeated start of the same request a no-op at Temporal. */
  requestId: string;
};

const utf8 = new TextEncoder();

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) {
    binary += String.fromCharCode(byte);
  }
  return btoa(binary);
}

/** One argument, given as JSON text, in Temporal's `json/plain` payload encoding, as the HTTP API's JSON spells it. */
export function jsonPayloads(json: string) {
  return {
    payloads: [
      {
        metadata: { encoding: base64(utf8.encode("json/plain")) },
        data: base64(utf8.encode(json)),
      },
    ],
  };
}

function workflowUrl(config: TemporalConfig, workflowId: string): string {
  const base = config.baseUrl.replace(/\/+$/, "");
  return `${base}/api/v1/namespaces/${encodeURIComponent(config.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

function headersFor(config: TemporalConfig): Record<string, string> {
  return {
    Accept: "application/json",
    "Content-Type": "application/json",
    "temporal-namespace": config.namespace,
    ...(config.apiKey ? { Authorization: `Bearer ${config.apiKey}` } : {}),
  };
}

type Answer = { status: number; text: string };

/** fetch, abandoned after the configured timeout: Temporal's answer, or why none came. */
async function call(config: TemporalConfig, url: string, init: RequestInit, fetchImpl: typeof fetch): Promise<Check<Answer>> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), config.timeoutMs);
  try {
    const response = await fetchImpl(url, { ...init, headers: headersFor(config), signal: controller.signal });
    return accept({ status: response.status, text: await response.text() });
  } catch (error) {
    return reject(
      error instanceof Error && error.name === "AbortError"
        ? `Temporal did not answer within ${config.timeoutMs} ms.`
        : `Temporal is unreachable: ${error instanceof Error ? error.message : String(error)}`,
    );
  } finally {
    clearTimeout(timer);
  }
}

/**
 * POSTs a request to Temporal (its fields, with the namespace and who asks):
 * Temporal's answer, or a failure of the moment when none came.
 */
async function post(
  config: TemporalConfig,
  url: string,
  fields: object,
  fetchImpl: typeof fetch,
): Promise<Answer | { kind: "failed"; reason: string }> {
  const body = { namespace: config.namespace, identity: "jangar-persistence", ...fields };
  const answered = await call(config, url, { method: "POST", body: JSON.stringify(body) }, fetchImpl);
  return answered.ok ? answered.value : { kind: "failed", reason: answered.message };
}

/**
 * NotFound (404) about the workflow itself. It is also Temporal's answer for
 * an unknown namespace, and a proxy's for a wrong path: those point at the
 * deployment, not at the workflow.
 */
function isWorkflowNotFound(answer: Answer): boolean {
  return answer.status === 404 && /workflow[^"]*not found|not found[^"]*workflow/i.test(answer.text);
}

/** `GET /api/v1/namespaces/{ns}/workflows/{workflowId}`: the execution's status. */
export async function describeWorkflow(
  config: TemporalConfig,
  workflowId: string,
  fetchImpl: typeof fetch = fetch,
): Promise<Described> {
  const answered = await call(config, workflowUrl(config, workflowId), { method: "GET" }, fetchImpl);
  if (!answered.ok) {
    return { kind: "unavailable", reason: answered.message };
  }
  const answer = answered.value;
  if (isWorkflowNotFound(answer)) {
    return { kind: "notFound" };
  }
  if (answer.status !== 200) {
    return { kind: "unavailable", reason: `Temporal answered ${answer.status}: ${truncate(answer.text, 200)}` };
  }
  let status: unknown;
  try {
    status = (JSON.parse(answer.text) as { workflowExecutionInfo?: { status?: unknown } }).workflowExecutionInfo?.status;
  } catch {
    return { kind: "unavailable", reason: "Temporal's answer is not JSON." };
  }
  const name = typeof status === "string" ? status.replace(/^WORKFLOW_EXECUTION_STATUS_/, "") : "";
  return (EXECUTION_STATUSES as readonly string[]).includes(name)
    ? { kind: "found", status: name as ExecutionStatus }
    : { kind: "unavailable", reason: `Temporal's answer has no known workflowExecutionInfo.status (${JSON.stringify(status)}).` };
}

/** The `code` and `message` of the HTTP API's error body (grpc-gateway's `{ code, message, details }`), when it is one. */
function grpcError(text: string): { code?: unknown; message?: unknown } {
  try {
    const body = JSON.parse(text) as unknown;
    return typeof body === "object" && body !== null ? body : {};
  } catch {
    return {};
  }
}

function grpcMessage(text: string): string {
  const { message } = grpcError(text);
  return typeof message === "string" ? message : text;
}

// gRPC's INVALID_ARGUMENT, which the HTTP API answers as 400 (so are other codes, and proxies' errors).
const INVALID_ARGUMENT = 3;

/**
 * A refusal of the request itself, final for this order: 413 (too large), or
 * 400 that Temporal marks INVALID_ARGUMENT (a bad type name, a payload over
 * its limits). Anything else, a bare 400 from a proxy included, points at
 * the deployment and is retried.
 */
function isRequestRefused(answer: Answer): boolean {
  return answer.status === 413 || (answer.status === 400 && grpcError(answer.text).code === INVALID_ARGUMENT);
}

/** `POST /api/v1/namespaces/{ns}/workflows/{workflowId}`: starts the workflow. */
export async function startWorkflow(
  config: TemporalConfig,
  request: StartRequest,
  fetchImpl: typeof fetch = fetch,
): Promise<Started> {
  const answer = await post(
    config,
    workflowUrl(config, request.workflowId),
    {
      workflowId: request.workflowId,
      workflowType: { name: request.workflowType },
      taskQueue: { name: request.taskQueue },
      input: jsonPayloads(request.inputJson),
      requestId: request.requestId,
    },
    fetchImpl,
  );
  if ("kind" in answer) {
    return answer;
  }
  // AlreadyExists (gRPC 6) is HTTP 409: this id already has a running execution.
  if (answer.status === 409) {
    return { kind: "alreadyStarted" };
  }
  if (isRequestRefused(answer)) {
    return { kind: "refused", reason: `Temporal refused the launch (${answer.status}): ${truncate(grpcMessage(answer.text), 200)}` };
  }
  if (answer.status !== 200) {
    return { kind: "failed", reason: `Temporal answered ${answer.status}: ${truncate(answer.text, 200)}` };
  }
  try {
    const runId = (JSON.parse(answer.text) as { runId?: unknown }).runId;
    // A run id is a UUID; whatever else an answer holds is kept bounded.
    return typeof runId === "string"
      ? { kind: "started", runId: truncate(runId, 100) }
      : { kind: "failed", reason: "Temporal's answer has no runId." };
  } catch {
    return { kind: "failed", reason: "Temporal's answer is not JSON." };
  }
}

/**
 * `POST /api/v1/namespaces/{ns}/workflows/{workflowId}/cancel`: asks the
 * workflow's current run to cancel (Temporal's RequestCancelWorkflowExecution;
 * the workflow sees the request and stops as it is written to). A workflow
 * Temporal does not know, or whose run has closed ("workflow execution
 * already completed", also a 404), has nothing to cancel.
 */
export async function cancelWorkflow(
  config: TemporalConfig,
  request: CancelRequest,
  fetchImpl: typeof fetch = fetch,
): Promise<CancelRequested> {
  const url = `${workflowUrl(config, request.workflowId)}/cancel`;
  const fields = { workflowExecution: { workflowId: request.workflowId }, requestId: request.requestId, reason: request.reason };
  const answer = await post(config, url, fields, fetchImpl);
  if ("kind" in answer) {
    return answer;
  }
  if (answer.status === 200) {
    return { kind: "requested" };
  }
  if (isWorkflowNotFound(answer) || (answer.status === 404 && /already completed/i.test(answer.text))) {
    return { kind: "gone", reason: truncate(grpcMessage(answer.text), 200) };
  }
  if (isRequestRefused(answer)) {
    return { kind: "refused", reason: `Temporal refused the cancel request (${answer.status}): ${truncate(grpcMessage(answer.text), 200)}` };
  }
  return { kind: "failed", reason: `Temporal answered ${answer.status}: ${truncate(answer.text, 200)}` };
}
