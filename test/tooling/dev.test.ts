// @vitest-environment node
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, expect, test, vi } from "vitest";
import { judgeCodegen } from "../../scripts/lib/codegen";
import { dev } from "../../scripts/lib/dev";
import { loadEnv } from "../../scripts/lib/env";
import { snapshot } from "../../scripts/lib/generated";
import type { Runner } from "../../scripts/lib/run";
import { modulesUnderTest } from "../helpers/backend";
import { rewriteAsADeploymentWould, temporaryProjects } from "../helpers/scripts";

const project = temporaryProjects();

/** A stand-in for `convex dev` that rewrites convex/_generated, then exits with `code`. */
function convexDevExiting(code: number, generated: string) {
  return vi.fn<Runner>(async () => {
    rewriteAsADeploymentWould(generated);
    return code;
  });
}

describe("npm run dev", () => {
  test("when the local backend cannot be downloaded, it ends with what happened, what works offline and the alternatives", async () => {
    const { dir, generated } = project();
    const before = snapshot(generated);
    const run = convexDevExiting(1, generated);
    const lines: string[] = [];
    const code = await dev(loadEnv({ PATH: "/usr/bin" }, dir), [], { run, log: (line) => lines.push(line), generatedDir: generated });

    expect(code).toBe(1);
    expect(run).toHaveBeenCalledWith("npx", ["convex", "dev"], { env: { PATH: "/usr/bin", CONVEX_AGENT_MODE: "anonymous" }, shell: false });
    const text = lines.join("\n");
    expect(text).toMatch(/downloads Convex's local backend binary from GitHub/);
    expect(text).toMatch(/convex dev stopped \(exit 1\)/);
    expect(text).toMatch(/local backend could not be downloaded/);
    expect(text).toMatch(/npm test .* npm run demo/);
    expect(text).toMatch(/npm run serve runs these functions on an embedded backend, on the same ports \(3210 and 3211\)/);
    expect(text).toMatch(/CONVEX_SELF_HOSTED_URL and CONVEX_SELF_HOSTED_ADMIN_KEY/);
    expect(text).toMatch(/cloud deployment \(npx convex login/);
    expect(snapshot(generated)).toEqual(before);
  });

  test("with a deployment configured in .env.local, the advice names that setting and where it is", async () => {
    const { dir, generated } = project("CONVEX_SELF_HOSTED_URL=https://convex.example.com\nCONVEX_SELF_HOSTED_ADMIN_KEY=convex-self-hosted|01\n");
    const lines: string[] = [];
    const run = convexDevExiting(1, generated);
    await dev(loadEnv({}, dir), ["--once"], { run, log: (line) => lines.push(line), generatedDir: generated });
    expect(run.mock.calls[0][2].env.CONVEX_AGENT_MODE).toBeUndefined();
    expect(run.mock.calls[0][1]).toEqual(["convex", "dev", "--once"]);
    expect(lines.join("\n")).toMatch(/the deployment that CONVEX_SELF_HOSTED_URL \(in \.env\.local\) names could not be reached/);
  });

  test.each([
    [0, "it stops normally"],
    [130, "it is interrupted (Ctrl-C)"],
  ])("exit %i (%s): convex/_generated is put back, no advice", async (exitCode) => {
    const { dir, generated } = project();
    const before = snapshot(generated);
    const lines: string[] = [];
    expect(await dev(loadEnv({}, dir), [], { run: convexDevExiting(exitCode, generated), log: (line) => lines.push(line), generatedDir: generated })).toBe(exitCode);
    expect(snapshot(generated)).toEqual(before);
    expect(lines.join("\n")).toMatch(/put .*_generated\/api\.js, .*_generated\/extra\.d\.ts back as it was .* npm run codegen/);
    expect(lines.join("\n")).not.toMatch(/stopped/);
  });

  test("a run that throws still puts convex/_generated back", async () => {
    const { dir, generated } = project();
    const before = snapshot(generated);
    const run = vi.fn<Runner>(async () => {
      rewriteAsADeploymentWould(generated);
      throw new Error("spawn npx ENOENT");
    });
    await expect(dev(loadEnv({}, dir), [], { run, log: () => {}, generatedDir: generated })).rejects.toThrow(/ENOENT/);
    expect(snapshot(generated)).toEqual(before);
  });
});

describe("npm test ends with the total line", () => {
  test("npm test prints N passed, N failed over both runs, and a step that failed before the tests counts as a failure", async () => {
    const script = JSON.parse(readFileSync("package.json", "utf8")).scripts.test as string;
    expect(script).toMatch(/^rm -rf build\/test-results; .*npm run test:source && npm run test:bundle; node scripts\/summarize-tests\.mjs build\/test-results \$\?$/);
    const { dir } = project();
    const report = (passed: number, failed: number) => JSON.stringify({ numPassedTests: passed, numFailedTests: failed });
    writeFileSync(join(dir, "source.json"), report(10, 0));
    writeFileSync(join(dir, "bundle.json"), report(9, 1));
    const summarize = (status: string) => spawnSync("node", ["scripts/summarize-tests.mjs", dir, status], { encoding: "utf8" });
    expect(summarize("1")).toMatchObject({ status: 1, stdout: "19 passed, 1 failed\n" });
    writeFileSync(join(dir, "bundle.json"), report(10, 0));
    expect(summarize("0")).toMatchObject({ status: 0, stdout: "20 passed, 0 failed\n" });
    expect(summarize("2")).toMatchObject({ status: 1, stdout: "20 passed, 1 failed\n" });
  });
});

describe("npm run check:codegen says what happened", () => {
  const committed = snapshot("convex/_generated");
  const deploymentForm = () => {
    const { generated } = project();
    rewriteAsADeploymentWould(generated);
    return snapshot(generated);
  };

  test("committed files equal to the generated ones: convex/_generated is up to date", () => {
    expect(judgeCodegen(committed, committed, committed)).toEqual({ ok: true, lines: ["check:codegen: convex/_generated is up to date."] });
  });

  test("left in a deployment's form by convex dev or deploy: put back, nothing to commit", () => {
    const verdict = judgeCodegen(deploymentForm(), committed, committed);
    expect(verdict.ok).toBe(true);
    expect(verdict.lines.join(" ")).toMatch(/api\.js.*had been rewritten in the form `convex dev` or `convex deploy` write for a deployment.*nothing to commit/);
    expect(verdict.lines.join(" ")).not.toMatch(/commit it/);
  });

  test("the committed files are stale for the sources: regenerate and commit, with the reason", () => {
    const regenerated = new Map([...committed, ["api.d.ts", `${committed.get("api.d.ts")}\n// a new module\n`]]);
    const verdict = judgeCodegen(committed, regenerated, committed);
    expect(verdict).toEqual({
      ok: false,
      lines: [
        expect.stringMatching(/the committed convex\/_generated does not match convex\/ \(convex\/_generated\/api\.d\.ts\): a module or function was added, removed or renamed without running npm run codegen/),
        expect.stringMatching(/review it \(git diff convex\/_generated\) and commit it/),
      ],
    });
  });

  test("outside a git checkout, a difference is reported without advice to commit", () => {
    const verdict = judgeCodegen(deploymentForm(), committed, null);
    expect(verdict.ok).toBe(false);
    expect(verdict.lines.join(" ")).toMatch(/rewritten in the form `convex dev` or `convex deploy` write .* run npm run check:codegen again/);
  });
});

describe.runIf(modulesUnderTest === "bundle")("npm run bundle", () => {
  test("the bundle's source maps point at the project's sources", () => {
    const missing: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) {
          walk(path);
        } else if (entry.name.endsWith(".js.map")) {
          const sources = (JSON.parse(readFileSync(path, "utf8")) as { sources: string[] }).sources;
          missing.push(...sources.map((source) => resolve(dirname(path), source)).filter((file) => !file.includes("/node_modules/") && !existsSync(file)));
        }
      }
    };
    walk("build/bundle/isolate");
    expect(missing).toEqual([]);
  });
});
