import { convexTest } from "convex-test";
import schema from "../../convex/schema";
import { enforceDocumentLimits, withFunctionLimits, withHttpLimits } from "./productionLimits";

/**
 * The suite runs twice: on the sources, and (JANGAR_TEST_MODULES=bundle) on
 * the modules of the real Convex deploy bundle, built by `npm run bundle`
 * into build/bundle/isolate. Bundle modules are keyed as if they sat in
 * convex/, beside the generated api that convex-test uses to find the root.
 */
const sourceModules = import.meta.glob("../../convex/**/*.*s");
const bundleModules = import.meta.glob("../../build/bundle/isolate/**/*.js");
const generatedApi = import.meta.glob("../../convex/_generated/api.js");

export const modulesUnderTest = process.env.JANGAR_TEST_MODULES === "bundle" ? "bundle" : "source";

type Modules = Record<string, () => Promise<unknown>>;

function bundleAsConvexModules() {
  const modules: Modules = { ...generatedApi };
  for (const [path, load] of Object.entries(bundleModules)) {
    const relative = path.slice("../../build/bundle/isolate/".length);
    if (!relative.startsWith("_deps/")) {
      modules[`../../convex/${relative}`] = load;
    }
  }
  if (Object.keys(modules).length < 2) {
    throw new Error("No deploy bundle in build/bundle: run `npm run bundle` first.");
  }
  return modules;
}

const modules = withFunctionLimits(modulesUnderTest === "bundle" ? bundleAsConvexModules() : sourceModules);

/**
 * A fresh backend with Convex's real per-transaction limits enforced (or
 * tighter ones where a test needs a transaction to hit its limit), and the
 * production limits convex-test leaves out (test/helpers/productionLimits.ts).
 */
export function newBackend(transactionLimits: TransactionLimits | true = true, extraModules: Modules = {}) {
  const t = convexTest({ schema, modules: { ...modules, ...withFunctionLimits(extraModules) }, transactionLimits });
  enforceDocumentLimits();
  return withHttpLimits(t);
}

/** Per-transaction limits a test may tighten (convex-test's names). */
type TransactionLimits = Partial<
  Record<"documentsRead" | "documentsWritten" | "bytesRead" | "bytesWritten", number>
>;

export type Backend = ReturnType<typeof newBackend>;
