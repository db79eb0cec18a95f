import { accept, reject, type Check } from "../check";
import { excerpt } from "../secrets";
import { withBase64Between } from "./payload";

/**
 * A small typed client for the three calls of Temporal's HTTP API this
 * service makes (docs/contract.md#5-reconciliation-and-temporal): describe, start and cancel a
 * workflow. It runs wherever `fetch` does: Convex's default runtime, Node,
 * tests with a stubbed fetch. Nothing it returns holds a piece of the API
 * key, whatever Temporal answers: every answer it keeps is masked before it
 * is cut (`kept`, src/secrets.ts).
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
  // In Temporal's API since 2025-11: a paused workflow is still running (docs/contract.md#hardening-rules).
  "PAUSED",
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

/** `json/plain` in base64: the encoding of the one payload a start request carries. */
const JSON_PLAIN = btoa("json/plain");

/**
 * A start request's body as the HTTP API's JSON spells it: its fields, and
 * `input` holding one `json/plain` payload whose data is the base64 of the
 * input's UTF-8, made a slice at a time (./payload.ts), so that a launch
 * holds two copies of its input at most: the JSON text, and the request.
 */
export function startRequestBody(fields: Record<string, unknown>, inputJson: string): string {
  const json = JSON.stringify(fields);
  const head = `${json.slice(0, -1)}${json === "{}" ? "" : ","}"input":{"payloads":[{"metadata":{"encoding":"${JSON_PLAIN}"},"data":"`;
  return withBase64Between(head, inputJson, `"}]}}`);
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

/** At most `maxChars` of what Temporal (or the network) said, without any piece of the API key. */
function kept(config: TemporalConfig, text: string, maxChars = 200): string {
  return excerpt(text, maxChars, { TEMPORAL_API_KEY: config.apiKey });
}

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
        : `Temporal is unreachable: ${kept(config, error instanceof Error ? error.message : String(error), 500)}`,
    );
  } finally {
    clearTimeout(timer);
  }
}

/** A request's fields, with the namespace and who asks. */
function requestFields(config: TemporalConfig, fields: Record<string, unknown>): Record<string, unknown> {
  return { namespace: config.namespace, identity: "jangar-persistence", ...fields };
}

/** POSTs a request's JSON body to Temporal: Temporal's answer, or a failure of the moment when none came. */
async function post(
  config: TemporalConfig,
  url: string,
  body: string,
  fetchImpl: typeof fetch,
): Promise<Answer | { kind: "failed"; reason: string }> {
  const answered = await call(config, url, { method: "POST", body }, fetchImpl);
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
    return { kind: "unavailable", reason: `Temporal answered ${answer.status}: ${kept(config, answer.text)}` };
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
    : { kind: "unavailable", reason: `Temporal's answer has no known workflowExecutionInfo.status (${kept(config, String(JSON.stringify(status)), 100)}).` };
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

/** The error's message (or the whole answer, when it has none), as it may be kept. */
function grpcMessage(config: TemporalConfig, text: string): string {
  const { message } = grpcError(text);
  return kept(config, typeof message === "string" ? message : text);
}

// gRPC's INVALID_ARGUMENT, which the HTTP API answers as 400 (so are other codes, and proxies' errors).
const INVALID_ARGUMENT = 3;
// gRPC's ALREADY_EXISTS, which the HTTP API answers as 409 (as it does ABORTED; so may a proxy).
const ALREADY_EXISTS = 6;

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
  const fields = requestFields(config, {
    workflowId: request.workflowId,
    workflowType: { name: request.workflowType },
    taskQueue: { name: request.taskQueue },
    requestId: request.requestId,
  });
  const answer = await post(config, workflowUrl(config, request.workflowId), startRequestBody(fields, request.inputJson), fetchImpl);
  if ("kind" in answer) {
    return answer;
  }
  // ALREADY_EXISTS: this id already has a running execution. Any other 409 (ABORTED, a proxy's) is retried.
  if (answer.status === 409 && grpcError(answer.text).code === ALREADY_EXISTS) {
    return { kind: "alreadyStarted" };
  }
  if (isRequestRefused(answer)) {
    return { kind: "refused", reason: `Temporal refused the launch (${answer.status}): ${grpcMessage(config, answer.text)}` };
  }
  if (answer.status !== 200) {
    return { kind: "failed", reason: `Temporal answered ${answer.status}: ${kept(config, answer.text)}` };
  }
  try {
    const runId = (JSON.parse(answer.text) as { runId?: unknown }).runId;
    // A run id is a UUID; whatever else an answer holds is kept bounded.
    return typeof runId === "string"
      ? { kind: "started", runId: kept(config, runId, 100) }
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
  const answer = await post(config, url, JSON.stringify(requestFields(config, fields)), fetchImpl);
  if ("kind" in answer) {
    return answer;
  }
  if (answer.status === 200) {
    return { kind: "requested" };
  }
  if (isWorkflowNotFound(answer) || (answer.status === 404 && /already completed/i.test(answer.text))) {
    return { kind: "gone", reason: grpcMessage(config, answer.text) };
  }
  if (isRequestRefused(answer)) {
    return { kind: "refused", reason: `Temporal refused the cancel request (${answer.status}): ${grpcMessage(config, answer.text)}` };
  }
  return { kind: "failed", reason: `Temporal answered ${answer.status}: ${kept(config, answer.text)}` };
}
