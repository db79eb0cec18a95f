import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { convexRuntime } from "./test/runtime/convexRuntime";

const notInConvex = fileURLToPath(new URL("./test/runtime/notInConvex.ts", import.meta.url));

export default defineConfig({
  plugins: [convexRuntime()],
  resolve: {
    alias: [
      // The Web Crypto build that Convex's bundler picks, not the Node one vitest would.
      {
        find: /^@octokit\/webhooks-methods$/,
        replacement: fileURLToPath(new URL("./node_modules/@octokit/webhooks-methods/dist-web/index.js", import.meta.url)),
      },
      // Node modules Convex's default runtime lacks.
      { find: /^(node:)?(crypto|buffer)$/, replacement: notInConvex },
    ],
  },
  test: {
    environment: "edge-runtime",
    server: { deps: { inline: ["convex-test"] } },
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
    testTimeout: 60_000,
  },
});
