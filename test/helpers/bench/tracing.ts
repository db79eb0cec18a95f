/*
 * The hook through which the bench's recorder of executions (trace.ts) sees
 * every function the test backend runs: each registered query, mutation and
 * action (wrapped by ../productionLimits.ts) and each HTTP action the router
 * finds. Without a recorder installed, a function runs as it is.
 */

export type FunctionKind = "query" | "mutation" | "action" | "httpAction";

/** Where the bench's recorder of executions (trace.ts) is installed, when it is. */
export const FUNCTION_TRACER = Symbol.for("jangar.functionTracer");

type Tracer = (name: string, kind: FunctionKind, ctx: unknown, run: (ctx: unknown) => Promise<unknown>) => Promise<unknown>;

/** Which kind of function a registered Convex function is (an HTTP action is routed, not registered). */
export function kindOf(convexFunction: object): FunctionKind {
  const flags = convexFunction as Record<string, unknown>;
  return flags.isQuery ? "query" : flags.isMutation ? "mutation" : "action";
}

/** Runs a function's handler, through the recorder of executions when one is installed. */
export function traced(name: string, kind: FunctionKind, ctx: unknown, run: (ctx: unknown) => Promise<unknown>): Promise<unknown> {
  const tracer = (globalThis as { [FUNCTION_TRACER]?: Tracer })[FUNCTION_TRACER];
  return tracer === undefined ? run(ctx) : tracer(name, kind, ctx, run);
}

export type HttpRoutes = { lookup(path: string, method: string): [{ _handler: (ctx: unknown, request: Request) => Promise<Response> }, ...unknown[]] | null };

/** The router with each HTTP action it finds run through the recorder of executions. */
export function tracedRoutes(router: HttpRoutes): HttpRoutes {
  return new Proxy(router, {
    get(target, property, receiver) {
      if (property !== "lookup") {
        return Reflect.get(target, property, receiver) as unknown;
      }
      return (path: string, method: string) => {
        const found = target.lookup(path, method);
        if (found === null) {
          return found;
        }
        const [action, ...rest] = found;
        const handler = action._handler;
        const routed = Object.assign(Object.create(action) as object, {
          _handler: (ctx: unknown, request: Request) => traced(`http ${method} ${path}`, "httpAction", ctx, (tracedCtx) => handler(tracedCtx, request)),
        });
        return [routed, ...rest];
      };
    },
  });
}
