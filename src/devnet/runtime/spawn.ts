import { closeSync, openSync, writeSync } from "node:fs";
import { stat } from "node:fs/promises";
import { execa } from "execa";
import { AvsctlError } from "../../errors.js";

export interface DetachedSpawn {
  name: string;
  command: string;
  args: string[];
  cwd: string;
  /** Added to this process's environment. */
  env: Record<string, string>;
  /** Appended to; the child writes to it directly. */
  logFile: string;
}

/**
 * Starts a process in its own session and process group, its output appended to its log file,
 * so it outlives the CLI. Returns its pid, the log offset where this run's output starts and
 * how it ended, once it ends. TOOLCHAIN_MISSING when the command does not exist.
 */
export async function spawnDetached(
  spec: DetachedSpawn,
): Promise<{ pid: number; logOffset: number; exited: Promise<string> }> {
  const fd = openSync(spec.logFile, "a");
  let logOffset: number;
  let subprocess: ReturnType<typeof execa>;
  try {
    writeSync(
      fd,
      `[avsctl] ${new Date().toISOString()} starting ${spec.name}: ${spec.command} ${spec.args.join(" ")}\n`,
    );
    logOffset = (await stat(spec.logFile)).size;
    subprocess = execa(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env,
      extendEnv: true,
      // The log file's descriptor goes to the child as is (no pipe through us), so the child keeps
      // logging after the CLI exits; execa's typings only list small literal descriptors.
      stdio: ["ignore", fd, fd] as unknown as ["ignore", "ignore", "ignore"],
      // Own session and process group: survives the CLI, and one kill(-pgid) stops it all.
      detached: true,
      cleanup: false,
      reject: false,
      buffer: false,
    });
  } finally {
    closeSync(fd);
  }
  const pid = subprocess.pid;
  if (pid === undefined) {
    const result = await subprocess;
    const code = (result as { code?: string }).code;
    throw new AvsctlError(
      code === "ENOENT" ? "TOOLCHAIN_MISSING" : "DEVNET_START_FAILED",
      `cannot start ${spec.name}: ${code === "ENOENT" ? `${spec.command} not found` : result.message}`,
      {
        hint: code === "ENOENT" ? `Install ${spec.command} or put it on PATH.` : undefined,
        details: { component: spec.name, command: spec.command },
      },
    );
  }
  subprocess.nodeChildProcess.unref();
  const exited = subprocess.then((result) =>
    result.signal ? `killed by ${result.signal}` : `exit code ${result.exitCode}`,
  );
  return { pid, logOffset, exited };
}
