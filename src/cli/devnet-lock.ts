import type { CommandContext } from "./context.js";

/**
 * Runs a command that changes the devnet of `projectDir` holding that devnet's lock
 * (src/devnet/lock.ts). A wait is said once on stderr, under --json too (stdout stays the
 * result): a CI log then shows why the command sat still.
 */
export async function lockedDevnet<T>(
  ctx: CommandContext,
  projectDir: string,
  command: string,
  fn: () => Promise<T>,
): Promise<T> {
  const { withDevnetLock } = await import("../devnet/lock.js");
  const onWait = (o: { command: string; pid: number }) =>
    ctx.out.stderr(`another avsctl ${o.command} is running for this project (pid ${o.pid}); waiting\n`);
  return withDevnetLock(projectDir, { command, onWait }, fn);
}
