import type { Plugin } from "vite";

/**
 * Node globals that Convex's default runtime does not have. The test harness
 * itself needs some of them (edge-runtime's Request uses Buffer), so instead
 * of deleting them from the global object, every module under test (convex/,
 * src/, and the deploy bundle) sees them shadowed as undefined: code that
 * works only under Node fails its tests as it would fail in Convex. `process`
 * keeps only `env`, as in Convex.
 */
export const NODE_ONLY_GLOBALS = ["Buffer", "setImmediate", "clearImmediate", "global", "require", "__dirname", "__filename"] as const;

const UNDER_TEST = /\/(convex|src|build\/bundle\/isolate)\/.*\.[jt]s$|\/test\/runtime\/probe\.ts$/;

export function convexRuntime(): Plugin {
  const prelude = `var ${NODE_ONLY_GLOBALS.map((name) => `${name} = undefined`).join(", ")}, process = { env: globalThis.process.env };`;
  return {
    name: "convex-default-runtime",
    enforce: "post",
    transform(code, id) {
      if (!UNDER_TEST.test(id.split("?")[0]) || id.includes("/node_modules/")) {
        return null;
      }
      return { code: `${prelude}${code}`, map: null };
    },
  };
}
