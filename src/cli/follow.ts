/**
 * Commands that stay in the foreground until stopped (`devnet logs -f`, `task watch`,
 * `devnet watch`) and commands a signal cuts short (`task send`): Ctrl-C or SIGTERM (a CI runner
 * cancelling the job) ends them with INTERRUPTED, exit 130, so a script can tell a cancelled run
 * from one that reached its end.
 */
import { type AvsctlError, isAvsctlError } from "../errors.js";
import type { CommandContext } from "./context.js";

/** How long a stopped command may take to let go of a request in flight before it answers anyway. */
export const INTERRUPT_GRACE_MS = 2_000;

/**
 * What `run` gives, or, once `signal` aborts, whatever of it comes within `graceMs`: a request
 * in flight (a frozen node) is not waited out, the process ends after the answer is out.
 */
export async function untilInterrupted<T>(
  run: Promise<T>,
  signal: AbortSignal,
  graceMs = INTERRUPT_GRACE_MS,
): Promise<T | undefined> {
  const aborted = new Promise<undefined>((resolve) => {
    const grace = () => setTimeout(() => resolve(undefined), graceMs).unref();
    if (signal.aborted) grace();
    else signal.addEventListener("abort", grace, { once: true });
  });
  return Promise.race([run, aborted]);
}

/**
 * Runs a follower until it ends. It ends for good on Ctrl-C or SIGTERM: the signal's handlers
 * are in place before it starts (a signal during its start is answered too, not died of), it
 * stops what it started on the signal, and once what it printed is out this throws
 * `interrupted()`. An end of its own (task watch's --timeout) returns as before.
 * `graceMs`: how long the follower may take to stop before the answer goes out anyway; without
 * it, it is waited for (a reload under way finishes first).
 */
export async function follow(
  ctx: CommandContext,
  run: () => Promise<void>,
  interrupted: (cause?: unknown) => AvsctlError,
  graceMs?: number,
): Promise<void> {
  const { signal } = ctx;
  try {
    const running = run();
    await (graceMs === undefined ? running : untilInterrupted(running, signal, graceMs));
  } catch (error) {
    // what the signal broke (a stream cut mid-read) is the interruption, not a failure of its own
    if (!signal.aborted || (isAvsctlError(error) && error.code === "INTERRUPTED")) throw error;
    throw interrupted(error);
  }
  if (signal.aborted) throw interrupted();
}
