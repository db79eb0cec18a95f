// `npm run deploy [-- --then "<command>"]`: preflight, `convex deploy --yes`,
// the follow-up command when the deploy succeeded, then the webhook URLs.
import { spawn } from "node:child_process";
import { deploy, preflight, type Runner } from "./lib/deploy";

const run: Runner = (command, args, { env, shell }) =>
  new Promise((resolve) => {
    const child = spawn(command, args, { env, shell, stdio: "inherit" });
    child.on("exit", (code, signal) => resolve(signal ? 1 : (code ?? 1)));
    child.on("error", () => resolve(127));
  });

const checked = preflight(process.env, process.argv.slice(2));
if (!checked.ok) {
  console.error(`deploy: ${checked.problem}`);
  process.exit(2);
}
process.exit(await deploy(checked.plan, run, (line) => console.log(line)));
