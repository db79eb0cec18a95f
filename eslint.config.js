import js from "@eslint/js";
import convexPlugin from "@convex-dev/eslint-plugin";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "build/", "convex/_generated/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...convexPlugin.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", ignoreRestSiblings: true }],
    },
  },
  {
    files: ["scripts/**/*.mjs", ".ci/**"],
    languageOptions: { globals: globals.node },
  },
  {
    // Every query goes through an index: `.filter()` on a query is an error here.
    files: ["convex/**/*.ts"],
    rules: { "@convex-dev/no-filter-in-query": "error" },
  },
);
