import { spawn } from "node:child_process";

/**
 * Runs a command and resolves with its exit code; injected, so that the
 * tools can be tested without running the Convex CLI. With `onOutput`, what
 * the command prints is shown as it comes and handed over too.
 */
export type Runner = (
  command: string,
  args: string[],
  options: { env: Record<string, string>; shell: boolean; onOutput?: (text: string) => void },
) => Promise<number>;

/** The exit code of a run the user interrupted (Ctrl-C), as shells report it. */
export const INTERRUPTED = 130;

/**
 * Runs a command on this terminal. Ctrl-C reaches the child from the
 * terminal; this process outlives it, so that it can tidy up after it
 * (`INTERRUPTED` is then the result). A termination sent to this process
 * alone is passed on to the child.
 */
export const runOnTerminal: Runner = (command, args, { env, shell, onOutput }) =>
  new Promise((resolve) => {
    let interrupted = false;
    const child = spawn(command, args, { env, shell, stdio: onOutput ? ["inherit", "pipe", "pipe"] : "inherit" });
    if (onOutput) {
      child.stdout?.on("data", (chunk: Buffer) => {
        process.stdout.write(chunk);
        onOutput(chunk.toString());
      });
      child.stderr?.on("data", (chunk: Buffer) => {
        process.stderr.write(chunk);
        onOutput(chunk.toString());
      });
    }
    const onInterrupt = () => {
      interrupted = true;
    };
    const passOn = (signal: NodeJS.Signals) => {
      interrupted = true;
      child.kill(signal);
    };
    process.on("SIGINT", onInterrupt);
    process.on("SIGTERM", passOn);
    process.on("SIGHUP", passOn);
    const done = (code: number) => {
      process.off("SIGINT", onInterrupt);
      process.off("SIGTERM", passOn);
      process.off("SIGHUP", passOn);
      resolve(interrupted ? INTERRUPTED : code);
    };
    child.on("exit", (code, signal) => done(signal ? 1 : (code ?? 1)));
    child.on("error", () => done(127));
  });
