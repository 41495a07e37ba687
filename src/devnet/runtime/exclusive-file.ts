/**
 * Files that one process at a time may hold: the devnet lock (../lock.ts) and the component
 * holds (./process-hold.ts). Both record their owner in the file and take over one whose owner
 * died; what they share is how a file is created exclusively and how a stale one is removed
 * without removing a newer owner's.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import path from "node:path";

/** A breaker (or an unreadable owner file) still there after this long was left by a process that died. */
export const ABANDONED_MS = 10_000;

/** O_EXCL: exactly one of the processes creating `file` at once gets it (its directory is made if missing). */
export function createExclusive(file: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, "wx", 0o644);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    if (code !== "ENOENT") throw error;
    mkdirSync(path.dirname(file), { recursive: true });
    return createExclusive(file, content);
  }
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Removes a stale file, unless another process took it over meanwhile: two that both saw it
 * stale must not both delete "it", the second deleting the first's new one. The breaker file
 * makes the check and the removal one step among them. False when another process is breaking it.
 */
export function breakStale(file: string, staleText: string, mine: string): boolean {
  const breaker = `${file}.break`;
  if (!createExclusive(breaker, mine)) {
    if (ageMs(breaker) > ABANDONED_MS) rmSync(breaker, { force: true });
    return false;
  }
  try {
    if (readText(file) === staleText) rmSync(file, { force: true });
  } finally {
    rmSync(breaker, { force: true });
  }
  return true;
}

export function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** Milliseconds since `file` was last written (0 when it is gone). */
export function ageMs(file: string): number {
  try {
    return Date.now() - statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}
