/**
 * The supervisor's process (see supervisor.ts), started detached by `devnet up`:
 *
 *   node dist/devnet/supervisor-main.js <project> <projectDir>
 *
 * Logs JSON lines on stdout (`.avsctl/logs/supervisor.log`); SIGTERM / SIGINT stop it.
 */
import { supervise } from "./supervisor.js";

const [project, projectDir] = process.argv.slice(2);
if (!project || !projectDir) {
  process.stderr.write("usage: supervisor-main.js <project> <projectDir>\n");
  process.exitCode = 2;
} else {
  const controller = new AbortController();
  process.once("SIGTERM", () => controller.abort());
  process.once("SIGINT", () => controller.abort());
  const log = (line: Record<string, unknown>) =>
    process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...line })}\n`);
  log({ msg: "supervising", project, projectDir, pid: process.pid });
  supervise({ project, projectDir, signal: controller.signal, log }).then(
    () => log({ msg: "stopped" }),
    (error: unknown) => {
      log({ msg: "supervisor failed", error: (error as Error).message });
      process.exitCode = 1;
    },
  );
}
