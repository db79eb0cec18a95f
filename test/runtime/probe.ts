// Transformed like code under test (see convexRuntime.ts): what such code sees.

export function typeOfGlobal(name: string): string {
  switch (name) {
    case "Buffer":
      return typeof Buffer;
    case "setImmediate":
      return typeof setImmediate;
    case "clearImmediate":
      return typeof clearImmediate;
    case "global":
      return typeof global;
    case "require":
      return typeof require;
    case "__dirname":
      return typeof __dirname;
    case "__filename":
      return typeof __filename;
    default:
      throw new Error(`not probed: ${name}`);
  }
}

export function processKeys(): string[] {
  return Object.keys(process);
}

export async function hmacLength(): Promise<number> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode("k"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, new Uint8Array([1]))).length;
}

/** Node modules that Convex's default runtime lacks, imported as code under test would. */
export const nodeModules: Record<string, () => Promise<unknown>> = {
  "node:crypto": () => import("node:crypto"),
  crypto: () => import("crypto"),
  "node:buffer": () => import("node:buffer"),
  buffer: () => import("buffer"),
};
