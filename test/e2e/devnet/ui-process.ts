/** `avsctl devnet ui --json` started as a user would, for the dashboard's e2e tests. */
import { type ChildProcess, spawn } from "node:child_process";
import { binPath } from "../../helpers/cli.js";

export interface RunningUi {
  url: string;
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr), for failure messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with its exit code (null when killed). */
  stop(graceMs?: number): Promise<number | null>;
}

/** Starts the dashboard in `cwd` and resolves once it printed its URL (its first JSON line). */
export function startUi(cwd: string, timeoutMs = 60_000): Promise<RunningUi> {
  const child = spawn(process.execPath, [binPath, "devnet", "ui", "--json"], {
    cwd,
    env: { ...process.env, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const stop = async (graceMs = 10_000): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    const exited = new Promise<number | null>((r) => child.once("exit", r));
    child.kill("SIGTERM");
    const killed = setTimeout(() => child.kill("SIGKILL"), graceMs);
    const code = await exited;
    clearTimeout(killed);
    return code;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop(1_000);
      reject(new Error(`devnet ui printed no URL in ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    child.stderr!.on("data", (d) => {
      out += d;
    });
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /"url"\s*:\s*"(http:\/\/[^"]+)"/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({ url: m[1]!, child, output: () => out, stop });
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`devnet ui exited ${code} before printing its URL:\n${out}`));
    });
  });
}
