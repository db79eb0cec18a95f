import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import { runTool, type Io } from "../../scripts/lib/cli";

export type ScriptRun = { code: number | null; stdout: string; stderr: string };

/**
 * Runs one of the command-line tools (`scripts/<name>.ts`) as `npm run`
 * would, in a child process; asynchronous, so that a loopback server in the
 * test keeps answering it.
 */
export async function runScript(script: string, args: string[], env: Record<string, string | undefined> = {}, cwd = "."): Promise<ScriptRun> {
  const child = spawn(`${process.cwd()}/node_modules/.bin/tsx`, [`${process.cwd()}/scripts/${script}`, ...args], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  return { code, stdout, stderr };
}

type Main = (args: string[], env: Record<string, string | undefined>, io: Io) => Promise<number>;

/** Runs a tool's main function in this process, as its script would; returns the exit code and the lines it wrote. */
export async function runInProcess(tool: string, main: Main, args: string[], env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (line) => out.push(line), err: (line) => err.push(line) };
  const code = await runTool(tool, () => main(args, env, io), io);
  return { code, out, err };
}

/**
 * Temporary project directories for the tools that touch convex/_generated
 * or read .env.local: each has a copy of the committed convex/_generated
 * and, when given, a .env.local; removed after each test.
 */
export function temporaryProjects() {
  const made: string[] = [];
  afterEach(() => {
    made.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true }));
  });
  return (envLocal?: string) => {
    const dir = mkdtempSync(join(tmpdir(), "jangar-project-"));
    made.push(dir);
    cpSync("convex/_generated", join(dir, "_generated"), { recursive: true });
    if (envLocal !== undefined) {
      writeFileSync(join(dir, ".env.local"), envLocal);
    }
    return { dir, generated: join(dir, "_generated") };
  };
}

/** What `convex dev` and `convex deploy` do to convex/_generated: api.js in a deployment's form, and a file more. */
export function rewriteAsADeploymentWould(generated: string) {
  const api = join(generated, "api.js");
  writeFileSync(api, readFileSync(api, "utf8").replace("import { anyApi }", "import { anyApi, componentsGeneric }") + "export const components = componentsGeneric();\n");
  writeFileSync(join(generated, "extra.d.ts"), "export {};\n");
}
