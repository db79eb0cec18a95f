import { AsyncLocalStorage } from "node:async_hooks";
import { FUNCTION_TRACER, type FunctionKind } from "./tracing";

/*
 * Every execution of an operation, from the request to the last scheduled
 * step (`npm run bench`): each query, mutation and action the backend runs,
 * whoever calls it, with what its whole transaction read and wrote
 * (ctx.meta.getTransactionMetrics, nested calls included), its file-storage
 * operations and the functions it scheduled. A query or mutation called from
 * a mutation runs in that mutation's transaction: it is counted as a nested
 * call, not as an execution.
 */

/** What executions read, write, store and schedule: summed over an operation as they are. */
const MEASURES = ["documentsRead", "documentsWritten", "bytesRead", "bytesWritten", "storageOperations", "scheduled"] as const;
type Measures = Record<(typeof MEASURES)[number], number>;

export type Execution = Measures & {
  name: string;
  kind: FunctionKind;
  // Run inside another query's or mutation's transaction (ctx.runMutation from a mutation).
  nested: boolean;
};

type Metrics = Record<"documentsRead" | "documentsWritten" | "bytesRead" | "bytesWritten", { used: number }>;
type Ctx = Record<string, unknown> & { meta?: { getTransactionMetrics?: () => Promise<Metrics> } };

const STORAGE_METHODS = new Set(["store", "get", "delete", "getUrl", "generateUploadUrl"]);
const SCHEDULER_METHODS = new Set(["runAfter", "runAt"]);

/** An object whose named methods count each call in `counted`. */
function counting<T extends object>(target: T, methods: Set<string>, counted: () => void): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver) as unknown;
      if (typeof value !== "function" || !methods.has(String(property))) {
        return value;
      }
      return (...args: unknown[]) => {
        counted();
        return (value as (...a: unknown[]) => unknown).apply(object, args);
      };
    },
  });
}

/** Starts recording executions; `stop()` removes the recorder. */
export function traceExecutions() {
  const executions: Execution[] = [];
  const current = new AsyncLocalStorage<Execution>();
  const tracer = async (name: string, kind: FunctionKind, ctx: Ctx, run: (ctx: unknown) => Promise<unknown>) => {
    const parent = current.getStore();
    const execution: Execution = {
      name,
      kind,
      nested: (parent?.kind === "query" || parent?.kind === "mutation") && (kind === "query" || kind === "mutation"),
      documentsRead: 0,
      documentsWritten: 0,
      bytesRead: 0,
      bytesWritten: 0,
      storageOperations: 0,
      scheduled: 0,
    };
    executions.push(execution);
    const traced: Ctx = { ...ctx };
    if (ctx.storage !== undefined) {
      traced.storage = counting(ctx.storage as object, STORAGE_METHODS, () => (execution.storageOperations += 1));
    }
    if (ctx.scheduler !== undefined) {
      traced.scheduler = counting(ctx.scheduler as object, SCHEDULER_METHODS, () => (execution.scheduled += 1));
    }
    return await current.run(execution, async () => {
      const result = await run(traced);
      if ((kind === "query" || kind === "mutation") && !execution.nested) {
        const metrics = await ctx.meta!.getTransactionMetrics!();
        execution.documentsRead = metrics.documentsRead.used;
        execution.documentsWritten = metrics.documentsWritten.used;
        execution.bytesRead = metrics.bytesRead.used;
        execution.bytesWritten = metrics.bytesWritten.used;
      }
      return result;
    });
  };
  (globalThis as Record<symbol, unknown>)[FUNCTION_TRACER] = tracer;
  return {
    /** The executions recorded since the last take. */
    take(): Execution[] {
      return executions.splice(0);
    },
    stop() {
      delete (globalThis as Record<symbol, unknown>)[FUNCTION_TRACER];
    },
  };
}

export type OperationCost = Measures & {
  httpActions: number;
  queries: number;
  mutations: number;
  actions: number;
  nestedCalls: number;
};

/** What an operation's executions add up to: executions by kind (nested calls apart), documents, bytes, storage operations, scheduled functions. */
export function operationCost(executions: Execution[]): OperationCost {
  const total: OperationCost = { httpActions: 0, queries: 0, mutations: 0, actions: 0, nestedCalls: 0, ...Object.fromEntries(MEASURES.map((measure) => [measure, 0])) } as OperationCost;
  for (const execution of executions) {
    if (execution.nested) {
      total.nestedCalls += 1;
    } else {
      total[({ query: "queries", mutation: "mutations", action: "actions", httpAction: "httpActions" } as const)[execution.kind]] += 1;
    }
    for (const measure of MEASURES) {
      total[measure] += execution[measure];
    }
  }
  return total;
}

/** Every execution: the HTTP actions and the queries, mutations and actions that are not nested in another's transaction. */
export function executionsOf(cost: OperationCost): number {
  return cost.httpActions + cost.queries + cost.mutations + cost.actions;
}
