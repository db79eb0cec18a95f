/**
 * What `npm run deploy` asks the target backend before deploying, and what
 * it makes of a failed `convex deploy`: a backend that does not answer, an
 * admin or deploy key it refuses, and a self-hosted backend too old for
 * this code (ctx.meta.getTransactionMetrics, which every delivery's
 * admission reads, came to backends on 2026-04-08).
 */

/** The deployment a check is about: cloud or self-hosted, and its functions URL when known. */
export type BackendTarget = { kind: "cloud" | "self-hosted"; backendUrl: string | null };

/** The first backend release with `ctx.meta.getTransactionMetrics`. */
export const MINIMUM_BACKEND_DATE = "2026-04-08";

export type Probe = { kind: "answered"; status: number; text: string } | { kind: "unreachable"; why: string };

/** `GET <backend>/instance_version`, which every Convex backend answers with its version (`precompiled-2026-04-08-abc1234`). */
export async function probeBackend(backendUrl: string, doFetch: typeof fetch = fetch): Promise<Probe> {
  try {
    const response = await doFetch(`${backendUrl.replace(/\/+$/, "")}/instance_version`, { signal: AbortSignal.timeout(10_000) });
    return { kind: "answered", status: response.status, text: (await response.text()).trim().slice(0, 200) };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { kind: "unreachable", why: cause?.code ?? cause?.message ?? (error as Error).message };
  }
}

/** The release date in a backend version (`precompiled-2026-04-08-abc1234`, `2026-04-08-abc1234`), or null. */
export function releaseDateOf(version: string): string | null {
  return /(?:^|[^\d])(\d{4}-\d{2}-\d{2})(?:[^\d]|$)/.exec(version)?.[1] ?? null;
}

/** Whether to go on with the deploy, and what to say: refused when unreachable, or self-hosted and too old. */
export function backendVersionVerdict(plan: BackendTarget, probe: Probe): { ok: boolean; lines: string[] } {
  const where = plan.kind === "self-hosted" ? `the self-hosted backend at ${plan.backendUrl} (CONVEX_SELF_HOSTED_URL)` : `${plan.backendUrl}`;
  if (probe.kind === "unreachable") {
    return {
      ok: false,
      lines: [
        `Nothing answers at ${where} (${probe.why}): nothing was deployed.`,
        plan.kind === "self-hosted"
          ? "  Is the backend running (docker compose ps), and is the URL the one it listens on (port 3210 by default, or your proxy's)? See docs/self-hosting.md."
          : "  Check the network, and that the deploy key is the deployment's (the dashboard's Settings).",
      ],
    };
  }
  if (plan.kind !== "self-hosted") {
    return { ok: true, lines: [] };
  }
  const date = releaseDateOf(probe.text);
  if (probe.status !== 200 || date === null) {
    return {
      ok: true,
      lines: [
        `The backend's version could not be read (GET /instance_version answered ${probe.status}${probe.text ? ` "${probe.text.slice(0, 60)}"` : ""}): it must be from ${MINIMUM_BACKEND_DATE} or later, or every delivery fails. See docs/self-hosting.md.`,
      ],
    };
  }
  if (date < MINIMUM_BACKEND_DATE) {
    return {
      ok: false,
      lines: [
        `The self-hosted backend runs ${probe.text}, released ${date}; this code needs a backend from ${MINIMUM_BACKEND_DATE} or later (ctx.meta.getTransactionMetrics, read by every delivery). Nothing was deployed.`,
        "  Upgrade the backend's image (ghcr.io/get-convex/convex-backend, and the dashboard with it), then deploy again. See docs/self-hosting.md.",
      ],
    };
  }
  return { ok: true, lines: [`The self-hosted backend runs ${probe.text} (from ${MINIMUM_BACKEND_DATE} on, as needed).`] };
}

const KEY_REFUSED = /BadAdminKey|BadDeployKey|Invalid(Admin|Deploy)Key|admin key (was )?invalid|invalid (admin|deploy) key|401 Unauthorized|Unauthorized|not authorized/i;
const UNREACHABLE = /fetch failed|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|getaddrinfo|socket hang up|network error/i;
const TOO_OLD = /404 Not Found|Unknown route|unsupported (server|backend)|upgrade (your|the) (backend|server)|is not supported by this backend|No such route/i;

/** What to tell an operator whose `convex deploy` failed, recognised from what it printed. */
export function deployFailureAdvice(plan: BackendTarget, output: string): string[] {
  const selfHosted = plan.kind === "self-hosted";
  if (KEY_REFUSED.test(output)) {
    return [
      selfHosted
        ? "The backend refused the admin key: CONVEX_SELF_HOSTED_ADMIN_KEY must be one this backend made (docker compose exec backend ./generate_admin_key.sh)."
        : "The deployment refused the deploy key: make a new one in the dashboard (Settings, Deploy keys) and set CONVEX_DEPLOY_KEY to it.",
    ];
  }
  if (UNREACHABLE.test(output)) {
    return [
      selfHosted
        ? `The backend at ${plan.backendUrl} could not be reached: check CONVEX_SELF_HOSTED_URL and that the backend runs (docker compose ps).`
        : "The deployment could not be reached: check the network (a proxy? HTTPS_PROXY) and try again.",
    ];
  }
  if (TOO_OLD.test(output)) {
    return [
      selfHosted
        ? `The backend did not know a request of this Convex CLI: it is probably too old. Upgrade it (ghcr.io/get-convex/convex-backend) to a release from ${MINIMUM_BACKEND_DATE} or later. See docs/self-hosting.md.`
        : "The deployment did not know a request of this Convex CLI: update the convex package (npm install), then deploy again.",
    ];
  }
  return [`See the Convex CLI's lines above; docs/troubleshooting.md lists the usual causes${selfHosted ? " (self-hosted: docs/self-hosting.md)" : ""}.`];
}
