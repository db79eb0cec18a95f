import { fileURLToPath } from "node:url";
import { configDefaults, defineConfig } from "vitest/config";
import { convexRuntime } from "./test/runtime/convexRuntime.ts";

const notInConvex = fileURLToPath(new URL("./test/runtime/notInConvex.ts", import.meta.url));

// The scale and cost runs: `npm run test:fast` (JANGAR_TEST_FAST=1) leaves them out.
const SCALE_AND_COST = [
  "test/cost/cost.test.ts",
  "test/cost/slackCost.test.ts",
  "test/cost/githubCost.test.ts",
  "test/cost/admissionCost.test.ts",
  "test/cost/launchCost.test.ts",
  "test/cost/reconcileScale.test.ts",
];

export default defineConfig({
  plugins: [convexRuntime()],
  resolve: {
    alias: [
      // Node modules Convex's default runtime lacks.
      { find: /^(node:)?(crypto|buffer)$/, replacement: notInConvex },
      // universal-github-app-jwt's Web Crypto build, which Convex's bundler picks (no "node" condition).
      { find: /^#crypto$/, replacement: fileURLToPath(new URL("./node_modules/universal-github-app-jwt/lib/crypto-native.js", import.meta.url)) },
    ],
  },
  test: {
    environment: "edge-runtime",
    server: { deps: { inline: ["convex-test", "universal-github-app-jwt"] } },
    include: ["test/**/*.test.ts"],
    exclude: [...configDefaults.exclude, ...(process.env.JANGAR_TEST_FAST === "1" ? SCALE_AND_COST : [])],
    setupFiles: ["test/helpers/setup.ts"],
    testTimeout: 60_000,
  },
});
