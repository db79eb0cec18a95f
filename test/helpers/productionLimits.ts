import type { TestConvexForDataModel } from "convex-test";
import type { GenericDataModel } from "convex/server";
import { getConvexSize, jsonToConvex, type JSONValue, type Value } from "convex/values";
import { CONVEX_LIMITS } from "../../src/limits";
import { kindOf, traced, tracedRoutes, type HttpRoutes } from "./bench/tracing";

/*
 * The limits of Convex's backend that convex-test does not enforce, held for
 * every backend the suite makes, so that a test which would fail in production
 * fails here:
 * - every document written (insert, patch, replace): at most 1 MiB as Convex
 *   measures it, 16 levels of nesting with the document, 1,024 fields per
 *   object, 8,192 elements per array, every string valid Unicode;
 * - every call of a query, mutation or action, whoever makes it (a test, an
 *   action, the scheduler): arguments and result at most 16 MiB, nested at
 *   most 64 deep, no object or array wider than the document limits, every
 *   string valid Unicode;
 * - every HTTP request: a body over 20 MiB is answered 413 before any action
 *   runs, and an action's response may not exceed 20 MiB.
 * Concurrency, time and memory are measured by `npm run bench` instead.
 */

const REFERENCE = "This is a Convex limit: https://docs.convex.dev/production/state/limits";

// Half of a surrogate pair: Convex holds strings as UTF-8 (Rust's String) and refuses a
// JavaScript string that has one, in a document or in a function's arguments or result.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Convex's nesting of a value, the first object or array wider than Convex
 * allows, and the first string (value or field name) Convex cannot hold.
 */
function shapeOf(value: unknown): { nesting: number; tooWide: string | null; notUnicode: string | null } {
  let nesting = 0;
  let tooWide: string | null = null;
  let notUnicode: string | null = null;
  const checkString = (text: string) => {
    if (notUnicode === null && LONE_SURROGATE.test(text)) {
      notUnicode = `String ${JSON.stringify(text.slice(0, 40))} is not valid Unicode (it holds half of a surrogate pair)`;
    }
  };
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length > 0) {
    const [node, above] = pending.pop()!;
    if (typeof node === "string") {
      checkString(node);
    }
    if (node === null || typeof node !== "object" || node instanceof ArrayBuffer) {
      continue;
    }
    const level = above + 1;
    nesting = Math.max(nesting, level);
    const children = Array.isArray(node) ? node : Object.values(node).filter((child) => child !== undefined);
    if (!Array.isArray(node)) {
      Object.keys(node).forEach(checkString);
    }
    if (tooWide === null && Array.isArray(node) && children.length > CONVEX_LIMITS.arrayElements) {
      tooWide = `Array length is too long (${children.length} > maximum length ${CONVEX_LIMITS.arrayElements})`;
    } else if (tooWide === null && !Array.isArray(node) && children.length > CONVEX_LIMITS.objectFields) {
      tooWide = `Object has too many fields (${children.length} > maximum number ${CONVEX_LIMITS.objectFields})`;
    }
    for (const child of children) {
      pending.push([child, level]);
    }
  }
  return { nesting, tooWide, notUnicode };
}

/** Throws as Convex would for a function's arguments or return value. */
function checkFunctionValue(name: string, part: "arguments" | "return value", value: unknown, maxBytes: number) {
  const size = getConvexSize(value as Value);
  if (size > maxBytes) {
    throw new Error(`The ${part} of ${name}: too large (${size} bytes > maximum size ${maxBytes} bytes). ${REFERENCE}`);
  }
  const { nesting, tooWide, notUnicode } = shapeOf(value);
  if (nesting > CONVEX_LIMITS.valueNesting) {
    throw new Error(
      `The ${part} of ${name}: too nested (nested ${nesting} levels deep > maximum nesting ${CONVEX_LIMITS.valueNesting}). ${REFERENCE}`,
    );
  }
  for (const problem of [tooWide, notUnicode]) {
    if (problem !== null) {
      throw new Error(`The ${part} of ${name}: ${problem}. ${REFERENCE}`);
    }
  }
}

type ConvexFunction = ((...args: unknown[]) => unknown) & {
  _handler: (ctx: unknown, args: Record<string, Value>) => Promise<unknown>;
};

/** A query, mutation or action (an HTTP action takes a Request, not Convex values, and is left alone). */
function isConvexFunction(exported: unknown): exported is ConvexFunction {
  return typeof exported === "function" && "_handler" in exported && !("isHttp" in exported);
}

/**
 * The function with its arguments and result held to Convex's limits.
 * convex-test calls every query, mutation and action through `_handler`,
 * whoever calls it, so this sees each call once.
 */
function checkedFunction(name: string, convexFunction: ConvexFunction): ConvexFunction {
  const handler = convexFunction._handler;
  return Object.assign((...args: unknown[]) => convexFunction(...args), convexFunction, {
    _handler: async (ctx: unknown, args: Record<string, Value>) => {
      // The backend measures the positional array `[args]`.
      checkFunctionValue(name, "arguments", [args], CONVEX_LIMITS.functionArgsBytes);
      const result = await traced(name, kindOf(convexFunction), ctx, (tracedCtx) => handler(tracedCtx, args));
      checkFunctionValue(name, "return value", result ?? null, CONVEX_LIMITS.functionResultBytes);
      return result;
    },
  });
}

type Modules = Record<string, () => Promise<unknown>>;

/** The modules under test, with every exported Convex function held to the limits on arguments and results. */
export function withFunctionLimits(modules: Modules): Modules {
  return Object.fromEntries(
    Object.entries(modules).map(([path, load]) => {
      const moduleName = path.replace(/^.*\/convex\//, "").replace(/\.[^.]+$/, "");
      let checked: Promise<unknown> | undefined;
      const loadChecked = async () => {
        const exports = (await load()) as Record<string, unknown>;
        return Object.fromEntries(
          Object.entries(exports).map(([name, exported]) => [
            name,
            isConvexFunction(exported)
              ? checkedFunction(`${moduleName}:${name}`, exported)
              : moduleName === "http" && name === "default"
                ? tracedRoutes(exported as HttpRoutes)
                : exported,
          ]),
        );
      };
      return [path, () => (checked ??= loadChecked())];
    }),
  );
}

type AsyncSyscall = (op: string, jsonArgs: string) => Promise<string>;
type ConvexRuntime = { syscall: unknown; asyncSyscall: AsyncSyscall; jsSyscall: unknown };

const DOCUMENT_WRITES = new Set(["1.0/insert", "1.0/shallowMerge", "1.0/replace"]);

/** The fields a write sets; a patch's `$undefined` (a field removed) sets none. */
function writtenFields(value: Record<string, JSONValue>): Record<string, Value> {
  const fields: Record<string, Value> = {};
  for (const [name, field] of Object.entries(value)) {
    const removed = field !== null && typeof field === "object" && !Array.isArray(field) && "$undefined" in field;
    if (!removed) {
      fields[name] = jsonToConvex(field);
    }
  }
  return fields;
}

/**
 * convex-test counts each written document's Convex size into the
 * transaction's `bytesWritten`; its growth across one write is the size of
 * the document as written.
 */
async function bytesWritten(inner: AsyncSyscall): Promise<number> {
  const metrics = JSON.parse(await inner("1.0/getTransactionMetrics", "{}")) as { bytesWritten: { used: number } };
  return metrics.bytesWritten.used;
}

/**
 * The database syscalls, with every document write held to Convex's document
 * limits. A patch's fields are checked as they are set (the fields it keeps
 * were checked when written); its size is the merged document's, which only
 * convex-test's accounting knows (two syscalls, so only patches pay for them).
 */
function checkedAsyncSyscall(inner: AsyncSyscall): AsyncSyscall {
  return async (op, jsonArgs) => {
    if (!DOCUMENT_WRITES.has(op)) {
      return await inner(op, jsonArgs);
    }
    const { table, id, value } = JSON.parse(jsonArgs) as { table: string; id?: string; value: Record<string, JSONValue> };
    const fields = writtenFields(value);
    const { nesting, tooWide, notUnicode } = shapeOf(fields);
    if (nesting > CONVEX_LIMITS.documentNesting) {
      throw new Error(
        `A document of ${table} is too nested (nested ${nesting} levels deep > maximum nesting ${CONVEX_LIMITS.documentNesting}). ${REFERENCE}`,
      );
    }
    for (const problem of [tooWide, notUnicode]) {
      if (problem !== null) {
        throw new Error(`A document of ${table}: ${problem}. ${REFERENCE}`);
      }
    }
    const isPatch = op === "1.0/shallowMerge";
    const before = isPatch ? await bytesWritten(inner) : 0;
    const result = await inner(op, jsonArgs);
    const size = isPatch
      ? (await bytesWritten(inner)) - before
      : getConvexSize({ ...fields, _id: id ?? (JSON.parse(result) as { _id: string })._id, _creationTime: 0 });
    if (size > CONVEX_LIMITS.documentBytes) {
      throw new Error(
        `A document of ${table} is too large (${size} bytes > maximum size ${CONVEX_LIMITS.documentBytes} bytes). ${REFERENCE}`,
      );
    }
    return result;
  };
}

const CHECKED = Symbol.for("jangar.productionLimits");

/**
 * Routes the Convex runtime's syscalls through the document checks. convex-test
 * installs `globalThis.Convex` once per test file, on its first backend, and
 * reads the current backend's syscalls through it; this wraps that object once.
 */
export function enforceDocumentLimits() {
  const runtime = (globalThis as { Convex?: ConvexRuntime & { [CHECKED]?: true } }).Convex;
  if (runtime === undefined) {
    throw new Error("convex-test has not installed the Convex runtime yet: make a backend first.");
  }
  if (runtime[CHECKED]) {
    return;
  }
  const checked = new WeakMap<AsyncSyscall, AsyncSyscall>();
  (globalThis as { Convex?: unknown }).Convex = {
    [CHECKED]: true,
    get syscall() {
      return runtime.syscall;
    },
    get asyncSyscall() {
      const inner = runtime.asyncSyscall;
      let wrapped = checked.get(inner);
      if (wrapped === undefined) {
        wrapped = checkedAsyncSyscall(inner);
        checked.set(inner, wrapped);
      }
      return wrapped;
    },
    get jsSyscall() {
      return runtime.jsSyscall;
    },
  };
}

/** The bytes a `fetch` body would send: counted where they are at hand, else read once. */
async function requestBody(path: string, init: RequestInit | undefined): Promise<{ bytes: number; init: RequestInit | undefined }> {
  const body = init?.body;
  if (body === undefined || body === null) {
    return { bytes: 0, init };
  }
  if (typeof body === "string") {
    return { bytes: new TextEncoder().encode(body).byteLength, init };
  }
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) {
    return { bytes: body.byteLength, init };
  }
  const request = new Request(new URL(path, "https://harness.invalid"), init);
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = new Uint8Array(await request.arrayBuffer());
  } catch (error) {
    // A body that fails while it is read (a client that went away) reaches the action failing the same way.
    const failing = new ReadableStream({ start: (controller) => controller.error(error) });
    return { bytes: 0, init: { method: request.method, headers: request.headers, body: failing, duplex: "half" } as RequestInit };
  }
  return { bytes: bytes.byteLength, init: { method: request.method, headers: request.headers, body: bytes } };
}

type Fetch = (path: string, init?: RequestInit) => Promise<Response>;

// Statuses whose response has no body, which `new Response` refuses to give one.
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * The test accessor with Convex's HTTP limits: a request body over 20 MiB is
 * refused with 413 before any action runs, as Convex's router does; a
 * response over 20 MiB fails the test.
 */
export function withHttpLimits<DataModel extends GenericDataModel, T extends TestConvexForDataModel<DataModel>>(t: T): T {
  const fetch: Fetch = async (path, init) => {
    const body = await requestBody(path, init);
    if (body.bytes > CONVEX_LIMITS.httpBodyBytes) {
      return new Response(`length limit exceeded (${body.bytes} bytes > ${CONVEX_LIMITS.httpBodyBytes})`, { status: 413 });
    }
    const response = await t.fetch(path, body.init);
    const answer = await response.arrayBuffer();
    if (answer.byteLength > CONVEX_LIMITS.httpBodyBytes) {
      throw new Error(`The response of ${path} is too large (${answer.byteLength} bytes > ${CONVEX_LIMITS.httpBodyBytes}). ${REFERENCE}`);
    }
    const { status, statusText, headers } = response;
    return new Response(NULL_BODY_STATUSES.has(status) ? null : answer, { status, statusText, headers });
  };
  return {
    ...t,
    fetch,
    withIdentity: (identity) => withHttpLimits<DataModel, TestConvexForDataModel<DataModel>>(t.withIdentity(identity)),
    withRequestMetadata: (metadata) => withHttpLimits<DataModel, TestConvexForDataModel<DataModel>>(t.withRequestMetadata(metadata)),
  };
}
