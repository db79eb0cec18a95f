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
    // Rules that read types, through each file's own tsconfig (convex/ has its own).
    files: ["**/*.ts"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // A switch over a union names every member, or says what the rest do: a new member never falls through unseen.
      "@typescript-eslint/switch-exhaustiveness-check": "error",
      // A promise is awaited, returned or explicitly let go (`void`), as Convex advises for scheduler and db calls.
      "@typescript-eslint/no-floating-promises": "error",
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
