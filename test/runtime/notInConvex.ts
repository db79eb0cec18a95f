/*
 * Stands in for Node's modules that Convex's default runtime does not have
 * (vitest.config.ts aliases them here): code that imports one fails its
 * tests as it would fail in Convex.
 */
throw new Error(
  "This module is not available in Convex's default runtime: use Web APIs (crypto.subtle, TextEncoder, Uint8Array) instead.",
);
