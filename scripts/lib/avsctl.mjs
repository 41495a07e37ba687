// Shared by the benchmarks that drive the CLI (bench-devnet, bench-engine): running
// `bin/avsctl.js` in a project directory the same way, so their figures count the same things.
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const bin = path.join(root, "bin", "avsctl.js");

/**
 * `avsctl <args>` in the project directory `dir`, without colours and with CI set unless the
 * caller set it (no prompts); killed after `timeoutMs`. Resolves with code, stdout, stderr and
 * wall time (ms), never rejects: a benchmark reports a failed command itself.
 */
export function runAvsctl(dir, args, timeoutMs = 300_000) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: "1", CI: process.env.CI ?? "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}
