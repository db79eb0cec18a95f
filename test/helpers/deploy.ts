import { vi } from "vitest";
import type { Probe } from "../../scripts/lib/backendCheck";
import { loadEnv, type Env } from "../../scripts/lib/env";

/** What `npm run deploy` is given: deploy and admin keys, the environment, the backend it probes. */

export const SECRET_KEY = "prod:happy-otter-123|eyJ2MiI6ImRlYWRiZWVmIn0=";
export const ADMIN_KEY = "convex-self-hosted|01f2e3d4c5b6a7";

/** A self-hosted backend's answer to GET /instance_version. */
export const backendAt = (version: string) => vi.fn(async (): Promise<Probe> => ({ kind: "answered", status: 200, text: version }));
export const recentBackend = backendAt("precompiled-2026-05-02-1f0e9d8");

/** The variables as the environment has them, with no .env.local or .env. */
export const inEnvironment = (env: Env) => loadEnv(env, "/nonexistent");
